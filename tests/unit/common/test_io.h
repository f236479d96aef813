// Test helpers for the tests that touch the file system or run programs
// (captures, sg3-utils, live targets): a file's bytes, a private temp folder,
// a command's exit code and output.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <istream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

namespace openmpio::testing {

// Everything left in `in`, as bytes.
inline std::vector<std::byte> ReadAllBytes(std::istream& in) {
  const std::vector<char> chars{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
  std::vector<std::byte> out(chars.size());
  std::transform(chars.begin(), chars.end(), out.begin(),
                 [](char c) { return static_cast<std::byte>(c); });
  return out;
}

// The file's bytes; empty when it cannot be opened (a test that must notice
// a missing file opens it itself and checks, then calls ReadAllBytes).
inline std::vector<std::byte> ReadFileBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return ReadAllBytes(in);
}

// A private folder under TMPDIR named <prefix>.XXXXXX, removed with everything
// in it. path() is empty when it could not be made.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + ".XXXXXX")).string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct ToolRun {
  int exit_code = -1;  // -1 when it could not start or did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs `command` through the shell, collecting stdout and stderr.
inline ToolRun RunTool(const std::string& command) {
  ToolRun r;
  std::FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace openmpio::testing
