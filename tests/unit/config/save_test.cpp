// SaveConfig: mode 0600, atomic replacement (the old file stays whole until
// the rename; no temporary file is left behind), and the saved file loads
// back to the same Config.
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"

namespace openmpio::config {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/openmpio-config-test.XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
  }
  ~TempDir() {
    for (const auto& name : Names()) ::unlink((path_ + "/" + name).c_str());
    ::rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    DIR* d = ::opendir(path_.c_str());
    if (d == nullptr) return out;
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
  }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ConfigSave, Mode0600AndLoadsBack) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/openmpio.toml";
  Config c = DemoConfig();
  c.defaults.load_balance_policy = dsm::LoadBalancePolicy::kLeastQueueDepth;
  DiskConfig d;
  d.alias = "lu0";
  d.policy = dsm::LoadBalancePolicy::kWeightedPaths;
  d.paths[0x1111222233334444ULL].weight = 7;
  c.disks.push_back(d);
  c.sim->lus[1].provisioning = SimProvisioning::kThick;
  // A permissive umask must not widen the mode.
  const mode_t old = ::umask(0);
  const Status s = SaveConfig(path, c);
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777U, 0600U);
  auto back = LoadConfig(path);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, c);
  EXPECT_EQ(back->sim->lus[1].provisioning, SimProvisioning::kThick);
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"openmpio.toml"});  // no temp file left
}

TEST(ConfigSave, ReplacesAtomically) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/openmpio.toml";
  {
    std::ofstream out(path);
    out << "# hand-written, with a comment\n[sim]\n";
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  ASSERT_TRUE(SaveConfig(path, DemoConfig()).ok());
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  // A new inode renamed over the old one (not rewritten in place), 0600.
  EXPECT_NE(before.st_ino, after.st_ino);
  EXPECT_EQ(after.st_mode & 07777U, 0600U);
  const std::string text = ReadAll(path);
  EXPECT_EQ(text, FormatConfig(DemoConfig()));
  EXPECT_EQ(text.find("hand-written"), std::string::npos);  // comments are not kept
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"openmpio.toml"});
}

TEST(ConfigSave, FailureLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  // The target is a non-empty folder: rename(2) fails, nothing is replaced.
  const std::string path = dir.path() + "/taken";
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
  { std::ofstream(path + "/keep") << "x"; }
  const Status s = SaveConfig(path, DemoConfig());
  EXPECT_TRUE(s.Is(NtStatus::kIoDeviceError)) << s.ToString();
  EXPECT_EQ(s.message().rfind(path + ": cannot rename the temporary file over it: ", 0), 0U)
      << s.message();
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"taken"});
  ::unlink((path + "/keep").c_str());
  ::rmdir(path.c_str());
}

// A Config that would not load again is not written, and the old file stays
// (the saver's last guard; management's ranges keep such values out).
TEST(ConfigSave, ATextTheParserRefusesIsNotWritten) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/openmpio.toml";
  { std::ofstream(path) << "old"; }
  Config c = DemoConfig();
  c.timers.retry_interval = 0;
  const Status s = SaveConfig(path, c);
  EXPECT_TRUE(s.Is(NtStatus::kInvalidParameter)) << s.ToString();
  EXPECT_NE(s.message().find("the file would not load again: " + path +
                             ":14:17: timers.RetryInterval: 0 is below the minimum 1 seconds"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(ReadAll(path), "old");
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"openmpio.toml"});
}

TEST(ConfigSave, MissingFolderIsAnError) {
  const Status s = SaveConfig("/nonexistent-openmpio-dir/x.toml", DemoConfig());
  EXPECT_TRUE(s.Is(NtStatus::kIoDeviceError));
  EXPECT_EQ(s.message(),
            "/nonexistent-openmpio-dir/x.toml: cannot create a temporary file: No such file or "
            "directory");
}

// A CHAP secret survives a save (written back as it was, in a 0600 file),
// and a file that every user may read is refused when it holds one.
TEST(ConfigSave, ChapSecretsAreSavedPrivatelyAndRefusedInAWorldReadableFile) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/openmpio.toml";
  Config c;
  IscsiTargetConfig t;
  t.name = "iqn.2024-01.test:disk1";
  t.portals = {"127.0.0.1:3260"};
  t.chap_username = "me";
  t.chap_secret = "s3cret-s3cret";
  c.targets.push_back(t);
  ASSERT_TRUE(SaveConfig(path, c).ok());
  auto back = LoadConfig(path);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->targets.at(0).chap_secret, "s3cret-s3cret");

  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto open = LoadConfig(path);
  ASSERT_FALSE(open.has_value());
  EXPECT_NE(open.error().message().find("holds a CHAP secret but is readable by every user (mode "
                                        "0644); chmod o-r"),
            std::string::npos)
      << open.error().message();
  EXPECT_EQ(open.error().message().find("s3cret"), std::string::npos);
  // Readable by its group (a service's group) is allowed.
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_TRUE(LoadConfig(path).has_value());
  // Without a secret any mode loads.
  c.targets[0].chap_username.clear();
  c.targets[0].chap_secret.clear();
  ASSERT_TRUE(SaveConfig(path, c).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_TRUE(LoadConfig(path).has_value());
}

}  // namespace
}  // namespace openmpio::config
