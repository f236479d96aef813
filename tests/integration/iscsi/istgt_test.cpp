// openmpio against istgt, a second real target: two portal groups of one LU
// are two target port groups. With alua = "force" (istgt says TPGS = 0 but
// names the groups in VPD 0x83 and answers RTPG / STPG) the engine forms one
// disk over both groups, reads their states, carries I/O on both, follows a
// path state set through the management method (DsmSetLoadBalancePolicyALUA
// via mpioctl), and fails over when a group's path is cut. SendTargets
// reports both portal groups with their tags. Each path is a socat proxy in
// front of its portal.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config/config.h"
#include "dsm/policy.h"
#include "iscsi_harness.h"
#include "runtime/runtime.h"
#include "transport/iscsi/send_targets.h"

namespace openmpio::transport::iscsi {
namespace {

using namespace std::chrono_literals;
using testing::Istgt;
using testing::Proxy;

const std::string kMpioctl = std::string(OPENMPIO_BINARY_DIR) + "/tools/mpioctl/mpioctl";

// A failed start ends the test there (the fixture's TearDown then stops what
// it started) instead of running on without an engine.
#define START(...) ASSERT_NO_FATAL_FAILURE(Start(__VA_ARGS__))

class IstgtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"istgt", "socat"}) {
      if (!testing::HaveTool(tool)) GTEST_SKIP() << tool << " is not installed";
    }
    ASSERT_EQ(istgt_.Start(), "");
    a_ = std::make_unique<Proxy>(istgt_.port(1), (istgt_.dir() / "socat-a.log").string());
    b_ = std::make_unique<Proxy>(istgt_.port(2), (istgt_.dir() / "socat-b.log").string());
    ASSERT_TRUE(a_->Start());
    ASSERT_TRUE(b_->Start());
  }
  void TearDown() override {
    if (rt_) rt_->Stop();
  }

  void Start(const std::string& alua) {
    const std::string text = "[management]\nsocket = \"" + Socket() +
                             "\"\n\n[timers]\ncommand_timeout = 5\nRetryInterval = 1\n\n"
                             "[[target]]\nname = \"" +
                             std::string(Istgt::kTarget) + "\"\nportals = [\"" + a_->portal() +
                             "\", \"" + b_->portal() + "\"]\nlogin_timeout = 3\nalua = \"" + alua +
                             "\"\n";
    auto c = config::ParseConfig(text, "istgt.toml");
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    auto rt = runtime::Runtime::Start(*c);
    ASSERT_TRUE(rt.has_value()) << rt.error().ToString();
    rt_ = std::move(*rt);
  }
  // The index in the disk of the path made through `proxy`.
  std::size_t PathThrough(const Proxy& proxy) {
    const auto nexuses = rt_->RunOnControl([](engine::Engine& e) { return e.Nexuses(); });
    const auto d = Info();
    for (const auto& n : nexuses) {
      if (n.portal != proxy.portal()) continue;
      for (std::size_t i = 0; i < d.paths.size(); ++i) {
        if (d.paths[i].id == n.id) return i;
      }
    }
    ADD_FAILURE() << "no path through " << proxy.portal();
    return 0;
  }
  std::string Events() {
    std::string s;
    for (const auto& e : rt_->RunOnControl([](engine::Engine& en) { return en.Events(); })) {
      s += "  " + e.text + "\n";
    }
    return s;
  }
  std::string Socket() const { return (istgt_.dir() / "mgmt.sock").string(); }
  engine::DiskInfo Info() { return rt_->Disks().at(0); }
  openmpio::testing::ToolRun Ctl(const std::string& args) {
    return openmpio::testing::RunTool(kMpioctl + " --socket " + Socket() + " " + args + " 2>&1");
  }
  // The state of the group that `path` is in.
  std::string StateOf(const engine::DiskInfo& d, std::size_t path) {
    for (const auto& g : d.groups) {
      if (d.paths[path].tpg_id && g.tpg_id == *d.paths[path].tpg_id) {
        return scsi::AccessStateName(g.state);
      }
    }
    return "?";
  }
  bool WaitState(std::size_t path, const std::string& want, std::chrono::milliseconds bound) {
    const auto end = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < end) {
      if (StateOf(Info(), path) == want) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  void WriteReadBack(std::uint64_t offset, std::uint8_t fill) {
    std::vector<std::byte> out(128 * 1024, std::byte{fill}), in(out.size());
    const auto h = rt_->Disk(0);
    ASSERT_TRUE(runtime::SyncWrite(h, offset, out).ok());
    ASSERT_TRUE(runtime::SyncRead(h, offset, in).ok());
    EXPECT_EQ(in, out);
  }

  Istgt istgt_;
  std::unique_ptr<Proxy> a_, b_;
  std::unique_ptr<runtime::Runtime> rt_;
};

TEST_F(IstgtTest, WithoutForceTheDiskHasNoAlua) {
  START("auto");
  const auto d = Info();
  ASSERT_EQ(d.paths.size(), 2u);
  EXPECT_EQ(d.alua, dsm::AluaSupport::kNotSupported);  // TPGS = 0, as MSDSM reads it
  WriteReadBack(0, 0x11);
}

TEST_F(IstgtTest, ForcedAluaGroupsCarryIoFollowManagementAndFailOver) {
  START("force");
  auto d = Info();
  ASSERT_EQ(d.paths.size(), 2u);
  EXPECT_EQ(d.alua, dsm::AluaSupport::kImplicitAndExplicit);
  ASSERT_EQ(d.groups.size(), 2u);
  ASSERT_TRUE(d.paths[0].tpg_id && d.paths[1].tpg_id);
  EXPECT_NE(*d.paths[0].tpg_id, *d.paths[1].tpg_id);
  EXPECT_EQ(StateOf(d, 0), "Active/Optimized");  // istgt: every group A/O
  EXPECT_EQ(StateOf(d, 1), "Active/Optimized");
  const std::size_t pa = PathThrough(*a_), pb = 1 - pa;

  // Both groups carry I/O.
  for (int i = 0; i < 16; ++i) WriteReadBack(static_cast<std::uint64_t>(i) << 17, 0x20);
  d = Info();
  EXPECT_GT(d.paths[pa].commands, 0u);
  EXPECT_GT(d.paths[pb].commands, 0u);

  // Management (DsmSetLoadBalancePolicyALUA through mpioctl): path b
  // Active/Unoptimized under RRWS carries nothing; then A/O again. Both
  // groups are A/O already, so no STPG is due (MSDSM step 14 sends one only
  // to make a group A/O).
  const std::string ida = dsm::PathIdText(d.paths[pa].id), idb = dsm::PathIdText(d.paths[pb].id);
  auto r = Ctl("policy set-alua " + d.name + " --policy rrws --path " + ida + "=AO --path " + idb +
               "=AU");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(Info().paths[pb].usable);
  const auto before = Info().paths[pb].commands;
  for (int i = 0; i < 16; ++i) WriteReadBack(static_cast<std::uint64_t>(i) << 17, 0x30);
  EXPECT_EQ(Info().paths[pb].commands, before) << "RRWS sends nothing to an A/U path";
  r = Ctl("policy set-alua " + d.name + " --path " + ida + "=AO --path " + idb + "=AO");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Info().paths[pb].usable);
  EXPECT_EQ(Info().policy_stpgs, 0u);

  // Group a's path cut: I/O goes on through group b.
  a_->Kill();
  for (int i = 0; i < 16; ++i) WriteReadBack(static_cast<std::uint64_t>(i) << 17, 0x40);
  d = Info();
  EXPECT_FALSE(d.paths[pa].online) << Events();
  EXPECT_TRUE(d.paths[pb].usable);
}

// istgt's SendTargets: both portal groups, with their tags; from one portal
// the engine finds both paths, and the tags make part of each DsmPathId.
TEST_F(IstgtTest, SendTargetsReportsEachPortalGroupWithItsTag) {
  SendTargetsRequest r;
  r.portal = "127.0.0.1:" + std::to_string(istgt_.port(1));
  r.initiator_name = "iqn.2024-01.test:openmpio-istgt";
  r.deadline = 5s;
  auto found = SendTargets(r);
  ASSERT_TRUE(found.has_value()) << found.error().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->at(0).name, Istgt::kTarget);
  std::set<std::pair<std::string, std::uint16_t>> portals;
  for (const auto& p : found->at(0).portals) portals.insert({p.portal, p.portal_group_tag});
  EXPECT_EQ(portals, (std::set<std::pair<std::string, std::uint16_t>>{
                         {"127.0.0.1:" + std::to_string(istgt_.port(1)), 1},
                         {"127.0.0.1:" + std::to_string(istgt_.port(2)), 2}}));

  // The engine from that one portal: both paths, ALUA forced as above.
  auto c = config::ParseConfig("[management]\nenabled = false\n\n[[target]]\nname = \"" +
                                   std::string(Istgt::kTarget) + "\"\nportals = [\"" + r.portal +
                                   "\"]\nsendtargets = true\nalua = \"force\"\n",
                               "istgt.toml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  auto rt = runtime::Runtime::Start(*c);
  ASSERT_TRUE(rt.has_value()) << rt.error().ToString();
  rt_ = std::move(*rt);
  const auto d = Info();
  EXPECT_EQ(d.paths.size(), 2u);
  EXPECT_EQ(d.groups.size(), 2u);
  WriteReadBack(1 << 20, 0x55);
}

}  // namespace
}  // namespace openmpio::transport::iscsi
