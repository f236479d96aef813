// The whole engine on real iSCSI: a Runtime built from a [[target]] with two
// portals — each a socat proxy in front of one tgtd (tgt's own portals are
// one target port: LAB.md) — discovers one disk per LU with two paths, keeps
// I/O correct while a path is killed (connection reset) or hung (SIGSTOP),
// fences the hung path's writes, and reinstates paths when they return.
// The oracle for the data is tgt's backing file, read directly: what the
// engine says it wrote must be there, and a late copy of an older write must
// never land on top of a newer one. Skips without tgtd/socat or root.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "dsm/policy.h"
#include "dsm/topology.h"
#include "iscsi_harness.h"
#include "runtime/from_config.h"
#include "runtime/runtime.h"
#include "transport/iscsi/send_targets.h"

namespace openmpio::transport::iscsi {
namespace {

using namespace std::chrono_literals;
using testing::Proxy;
using testing::Tgt;

constexpr std::uint32_t kBlock = 512;

std::vector<std::byte> FileBytes(const std::filesystem::path& file, std::uint64_t offset,
                                 std::size_t n) {
  std::vector<std::byte> out(n);
  std::ifstream f(file, std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n));
  if (!f) out.clear();
  return out;
}

// A 4 KiB block that says who wrote it and when: region, slot, generation.
std::vector<std::byte> Stamp(std::uint32_t region, std::uint32_t slot, std::uint32_t gen) {
  std::vector<std::byte> b(4096);
  for (std::size_t i = 0; i < b.size(); ++i) {
    b[i] = std::byte(static_cast<std::uint8_t>((region * 131 + slot * 17 + gen * 7 + i) & 0xff));
  }
  std::memcpy(b.data(), &gen, sizeof gen);
  return b;
}

// A failed start ends the test there (the fixture's TearDown then stops what
// it started) instead of running on without an engine.
#define START(...) ASSERT_NO_FATAL_FAILURE(Start(__VA_ARGS__))

class IscsiRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = testing::TgtUnavailable(); !why.empty()) GTEST_SKIP() << why;
    const std::string why = tgt_.Start();
    ASSERT_EQ(why, "") << why;
    a_ = std::make_unique<Proxy>(tgt_.port(), (tgt_.dir() / "socat-a.log").string());
    b_ = std::make_unique<Proxy>(tgt_.port(), (tgt_.dir() / "socat-b.log").string());
    ASSERT_TRUE(a_->Start());
    ASSERT_TRUE(b_->Start());
  }
  void TearDown() override {
    if (rt_) rt_->Stop();
    rt_.reset();
    a_.reset();
    b_.reset();
  }

  // [[target]] over both proxies; `extra` goes into the [[target]] table.
  std::string ConfigText(const std::string& timers, const std::string& extra = "") const {
    return "[management]\nenabled = false\n\n[timers]\n" + timers + "\n[[target]]\nname = \"" +
           std::string(Tgt::kTarget) + "\"\nportals = [\"" + a_->portal() + "\", \"" +
           b_->portal() + "\"]\ninitiator_name = \"" + kInitiator + "\"\nlogin_timeout = 2\n" +
           extra;
  }
  void Start(const std::string& text) {
    auto c = config::ParseConfig(text, "iscsi.toml");
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    runtime::RuntimeOptions o;
    o.discovery_timeout = 15s;
    auto rt = runtime::Runtime::Start(*c, o);
    ASSERT_TRUE(rt.has_value()) << rt.error().ToString();
    rt_ = std::move(*rt);
  }
  // The disk of the LU with `bytes` bytes.
  std::size_t DiskOfSize(std::uint64_t bytes) {
    for (const auto& d : rt_->Disks()) {
      if (d.blocks * d.block_size == bytes) return d.index;
    }
    ADD_FAILURE() << "no disk of " << bytes << " bytes";
    return 0;
  }
  engine::DiskInfo Info(std::size_t index) { return rt_->Disks().at(index); }
  std::vector<engine::EngineEvent> Events() {
    return rt_->RunOnControl([](engine::Engine& e) { return e.Events(); });
  }
  std::vector<engine::NexusInfo> Nexuses() {
    return rt_->RunOnControl([](engine::Engine& e) { return e.Nexuses(); });
  }
  std::size_t EventsWith(const std::string& text) {
    std::size_t n = 0;
    for (const auto& e : Events())
      if (e.text.find(text) != std::string::npos) ++n;
    return n;
  }
  std::string EventLog() {
    std::string s;
    for (const auto& e : Events()) s += "  [" + e.disk + "] " + e.text + "\n";
    return s;
  }
  // Both paths of disk `index` online and usable, within `bound`.
  bool WaitBothPathsUsable(std::size_t index, std::chrono::milliseconds bound) {
    const auto end = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < end) {
      const auto d = Info(index);
      std::size_t usable = 0;
      for (const auto& p : d.paths) {
        if (p.online && p.usable) ++usable;
      }
      if (usable == 2) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Writers on disk `index` until `stop`: each owns a region of 16 slots of
  // 4 KiB and overwrites its slots again and again with newer generations
  // (so a late copy of an older write would show), reading each back. The
  // image of what each slot must hold is kept for the end.
  struct Writers {
    static constexpr std::uint32_t kRegions = 4, kSlots = 16;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> writes{0}, errors{0}, mismatches{0};
    std::uint32_t last_gen[kRegions][kSlots] = {};
    std::vector<std::thread> threads;
    std::string first_error;
    std::mutex mu;
  };
  void RunWriters(Writers& w, std::size_t index, std::uint64_t base) {
    engine::DiskHandle disk = rt_->Disk(index);
    for (std::uint32_t r = 0; r < Writers::kRegions; ++r) {
      w.threads.emplace_back([&w, disk, r, base] {
        std::mt19937 rng(r + 1);
        std::uint32_t gen = 1;
        std::vector<std::byte> in(4096);
        while (!w.stop.load()) {
          const std::uint32_t slot = rng() % Writers::kSlots;
          const std::uint64_t off = base + (r * Writers::kSlots + slot) * 4096ull;
          const auto data = Stamp(r, slot, gen);
          const Status ws = runtime::SyncWrite(disk, off, data);
          const Status rs = ws.ok() ? runtime::SyncRead(disk, off, in) : ws;
          if (!ws.ok() || !rs.ok()) {
            w.errors.fetch_add(1);
            std::lock_guard<std::mutex> lock(w.mu);
            if (w.first_error.empty()) w.first_error = (ws.ok() ? rs : ws).ToString();
          } else if (in != data) {
            w.mismatches.fetch_add(1);
          }
          // A failed write leaves the slot's content unknown: never count on it.
          w.last_gen[r][slot] = ws.ok() ? gen : 0xffffffffu;
          w.writes.fetch_add(1);
          ++gen;
        }
      });
    }
  }
  // Stops the writers and checks every slot in tgt's backing file.
  void StopWritersAndCheckFile(Writers& w, const std::filesystem::path& file, std::uint64_t base) {
    w.stop.store(true);
    for (auto& t : w.threads) t.join();
    EXPECT_EQ(w.errors.load(), 0u) << w.first_error;
    EXPECT_EQ(w.mismatches.load(), 0u);
    EXPECT_GT(w.writes.load(), 100u);
    std::cout << "writes (each read back): " << w.writes.load() << "\n";
    for (std::uint32_t r = 0; r < Writers::kRegions; ++r) {
      for (std::uint32_t s = 0; s < Writers::kSlots; ++s) {
        const std::uint32_t gen = w.last_gen[r][s];
        if (gen == 0 || gen == 0xffffffffu) continue;
        const std::uint64_t off = base + (r * Writers::kSlots + s) * 4096ull;
        EXPECT_EQ(FileBytes(file, off, 4096), Stamp(r, s, gen))
            << "region " << r << " slot " << s << ": the backing file does not hold generation "
            << gen;
      }
    }
  }

  // Writers on the one disk at `base` while path a hangs (SIGSTOP) for
  // `hang`; then both paths must be usable again, every write must be in
  // the backing file, and every write of unknown fate fenced. The disk's
  // state after.
  engine::DiskInfo HangPathAUnderWriters(std::chrono::milliseconds hang, std::uint64_t base) {
    EXPECT_TRUE(WaitBothPathsUsable(0, 5s));
    Writers w;
    RunWriters(w, 0, base);
    std::this_thread::sleep_for(500ms);
    a_->Signal(SIGSTOP);
    std::this_thread::sleep_for(hang);
    a_->Signal(SIGCONT);
    EXPECT_TRUE(WaitBothPathsUsable(0, 15s)) << EventLog();
    std::this_thread::sleep_for(500ms);
    StopWritersAndCheckFile(w, tgt_.dir() / "lun300.img", base);
    const auto d = Info(0);
    EXPECT_GE(d.fences_recorded, 1u) << EventLog();
    EXPECT_EQ(d.fences_lifted, d.fences_recorded) << EventLog();
    return d;
  }

  static constexpr const char* kInitiator = "iqn.2024-01.test:openmpio-runtime";
  Tgt tgt_;
  std::unique_ptr<Proxy> a_, b_;
  std::unique_ptr<runtime::Runtime> rt_;
};

TEST_F(IscsiRuntimeTest, TwoPortalsGiveOneDiskPerLuWithTwoPathsNamedByTheirNexus) {
  START(ConfigText("command_timeout = 5\n"));
  const auto disks = rt_->Disks();
  ASSERT_EQ(disks.size(), 2u);  // LUN 1 and LUN 300; LUN 0 is tgt's controller
  const auto lu300 = Info(DiskOfSize(Tgt::kLun300Bytes));
  const auto lu1 = Info(DiskOfSize(Tgt::kLun1Bytes));
  for (const auto& d : {lu1, lu300}) {
    EXPECT_TRUE(d.ready) << d.name;
    EXPECT_EQ(d.block_size, kBlock);
    ASSERT_EQ(d.paths.size(), 2u) << d.name;
    EXPECT_NE(d.paths[0].id, d.paths[1].id);
    EXPECT_EQ(d.alua, dsm::AluaSupport::kNotSupported);  // tgt: TPGS = 0
  }
  // Each path's DsmPathId is its I_T nexus: initiator + the ISID of that
  // portal's session + target, no portal.
  std::set<dsm::DsmPathId> want;
  for (const Proxy* p : {a_.get(), b_.get()}) {
    dsm::NexusIdentity id;
    id.initiator_name = kInitiator;
    id.isid = runtime::PathIsid(kInitiator, Tgt::kTarget, p->portal());
    id.target_name = Tgt::kTarget;
    want.insert(dsm::MakeDsmPathId(id));
  }
  EXPECT_EQ(want, (std::set<dsm::DsmPathId>{lu300.paths[0].id, lu300.paths[1].id}));
  std::set<std::string> portals;
  for (const auto& n : Nexuses()) portals.insert(n.portal);
  EXPECT_EQ(portals, (std::set<std::string>{a_->portal(), b_->portal()}));

  // LUN 300 (flat space on the wire): what we write is in its backing file.
  std::vector<std::byte> out(64 * 1024);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = std::byte(static_cast<std::uint8_t>(i * 13 + 5));
  const auto h = rt_->Disk(lu300.index);
  ASSERT_TRUE(runtime::SyncWrite(h, 1 << 20, out).ok());
  std::vector<std::byte> in(out.size());
  ASSERT_TRUE(runtime::SyncRead(h, 1 << 20, in).ok());
  EXPECT_EQ(in, out);
  EXPECT_EQ(FileBytes(tgt_.dir() / "lun300.img", 1 << 20, out.size()), out);
  EXPECT_TRUE(FileBytes(tgt_.dir() / "lun1.img", 1 << 20, out.size()) != out);
}

// The embedded array beside real storage: each disk from one of them.
TEST_F(IscsiRuntimeTest, TheEmbeddedArrayServesBesideATarget) {
  START(ConfigText("command_timeout = 5\n", "luns = [300]\n") +
        "\n[sim]\n[[sim.port]]\nrelative_target_port = 1\ntarget_port_group = 1\n"
        "[[sim.port]]\nrelative_target_port = 2\ntarget_port_group = 1\n"
        "[[sim.lu]]\nlun = 0\nsize = \"16MiB\"\nowner_group = 1\n");
  const auto disks = rt_->Disks();
  ASSERT_EQ(disks.size(), 2u);
  const auto lu300 = Info(DiskOfSize(Tgt::kLun300Bytes));
  const auto sim = Info(DiskOfSize(16u << 20));
  EXPECT_EQ(lu300.paths.size(), 2u);
  EXPECT_EQ(sim.paths.size(), 2u);
  EXPECT_EQ(sim.alua, dsm::AluaSupport::kImplicitAndExplicit);  // the sim's TPGS default

  std::vector<std::byte> out(8192, std::byte{0x77}), in(8192);
  for (const std::size_t d : {lu300.index, sim.index}) {
    ASSERT_TRUE(runtime::SyncWrite(rt_->Disk(d), 0, out).ok());
    ASSERT_TRUE(runtime::SyncRead(rt_->Disk(d), 0, in).ok());
    EXPECT_EQ(in, out);
  }
  EXPECT_EQ(FileBytes(tgt_.dir() / "lun300.img", 0, out.size()), out);
}

TEST_F(IscsiRuntimeTest, OnlyTheConfiguredLunsAreClaimed) {
  START(ConfigText("command_timeout = 5\n", "luns = [300]\n"));
  const auto disks = rt_->Disks();
  ASSERT_EQ(disks.size(), 1u);
  EXPECT_EQ(disks[0].blocks * disks[0].block_size, Tgt::kLun300Bytes);
}

TEST_F(IscsiRuntimeTest, AKilledPathFailsOverWithoutAnErrorAndIsReinstatedWhenItReturns) {
  START(ConfigText("command_timeout = 5\nRetryInterval = 1\n", "luns = [300]\n"));
  ASSERT_TRUE(WaitBothPathsUsable(0, 5s));
  Writers w;
  RunWriters(w, 0, 4 << 20);
  std::this_thread::sleep_for(500ms);
  const int port = a_->port();
  a_->Kill();  // connection reset: every command on it is lost
  std::this_thread::sleep_for(1500ms);
  EXPECT_GE(EventsWith("connection lost"), 1u) << EventLog();
  ASSERT_TRUE(a_->Start(port));
  EXPECT_TRUE(WaitBothPathsUsable(0, 10s)) << EventLog();
  std::this_thread::sleep_for(500ms);
  StopWritersAndCheckFile(w, tgt_.dir() / "lun300.img", 4 << 20);
  std::uint64_t reinstated = 0;
  for (const auto& n : Nexuses()) reinstated += n.reinstatements;
  EXPECT_GE(reinstated, 1u);
  std::cout << "events:\n" << EventLog();
}

// SIGSTOP: the path hangs with writes in flight. They are re-sent on the
// other path at once (the hedge) and become writes of unknown fate; an
// overlapping newer write waits until the target fences the old copy — by
// the answer to our ABORT TASK or by the reinstatement of the session —, so
// when the stopped proxy lets the old copy through, it lands before, not
// after, the newer one.
TEST_F(IscsiRuntimeTest, AHungPathsWritesAreFencedBeforeAnOverlappingWriteGoes) {
  START(ConfigText("command_timeout = 2\nRetryInterval = 1\nPDORemovePeriod = 20\n",
                   "luns = [300]\n"));
  const auto d = HangPathAUnderWriters(3s, 8 << 20);
  EXPECT_EQ(d.unknown_fate_writes, 0u);
  EXPECT_EQ(d.fence_failed_writes, 0u);
  EXPECT_GE(EventsWith("has an unknown fate"), 1u) << EventLog();
  EXPECT_GE(
      EventsWith("fenced by ABORT TASK answered") + EventsWith("fenced by session reinstatement"),
      1u)
      << EventLog();
  std::cout << "events:\n" << EventLog();
}

// A hang shorter than the command timeout: the hedge re-sends the hung
// writes elsewhere after 500 ms and asks ABORT TASK for their first copies;
// when the path resumes, the target runs each first copy (it came first on
// the connection) and answers TASK DOES NOT EXIST: the fence, without a
// session reinstatement.
TEST_F(IscsiRuntimeTest, AShortHangIsFencedByTheAnswersToAbortTask) {
  START(ConfigText("command_timeout = 10\nRetryInterval = 1\nhedge_floor_ms = 500\n",
                   "luns = [300]\n"));
  HangPathAUnderWriters(1500ms, 12 << 20);
  EXPECT_GE(EventsWith("fenced by ABORT TASK answered"), 1u) << EventLog();
  EXPECT_EQ(EventsWith("fenced by session reinstatement"), 0u) << EventLog();
  std::uint64_t reinstated = 0;
  for (const auto& n : Nexuses()) reinstated += n.reinstatements;
  EXPECT_GE(reinstated, 1u);  // the hedge failed the path; the probe brought it back
}

// An administrator adds a LU to the target, and later removes it: tgt says
// so with REPORTED LUNS DATA HAS CHANGED (3F/0E) on the next command of
// every I_T nexus, which the engine answers with a rescan — a new disk with
// both paths, and then a disk whose I/O fails at once. The other disk's I/O
// goes on without an error throughout.
TEST_F(IscsiRuntimeTest, ALuAddedAndRemovedOnTheTargetComesAndGoesAsADisk) {
  START(ConfigText("command_timeout = 5\n"));
  ASSERT_EQ(rt_->Disks().size(), 2u);
  const std::size_t lu300 = DiskOfSize(Tgt::kLun300Bytes);
  Writers w;
  RunWriters(w, lu300, 16 << 20);  // the commands that carry the unit attentions
  ASSERT_EQ(tgt_.AddLu(2, 8 << 20), "");
  const auto end = std::chrono::steady_clock::now() + 10s;
  std::optional<engine::DiskInfo> added;
  while (!added && std::chrono::steady_clock::now() < end) {
    for (const auto& d : rt_->Disks()) {
      if (d.blocks * d.block_size == (8u << 20) && d.ready && d.paths.size() == 2) added = d;
    }
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(added.has_value()) << EventLog();
  std::vector<std::byte> out(4096, std::byte{0x2c}), in(4096);
  const auto h = rt_->Disk(added->index);
  ASSERT_TRUE(runtime::SyncWrite(h, 4096, out).ok());
  EXPECT_EQ(FileBytes(tgt_.dir() / "lun2.img", 4096, 4096), out);

  ASSERT_EQ(tgt_.RemoveLu(2), "");
  Status s;
  const auto gone = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < gone) {
    s = runtime::SyncRead(h, 0, in);
    if (!s.ok()) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(s.ok()) << "the removed LU still answers";
  StopWritersAndCheckFile(w, tgt_.dir() / "lun300.img", 16 << 20);
}

// CHAP against tgt: the right secret logs in; a wrong one leaves the target's
// paths out with an event that says why (and no secret), while the embedded
// array beside it serves on; mutual CHAP checks the target's answer too.
TEST_F(IscsiRuntimeTest, ChapRightWrongAndMutual) {
  ASSERT_EQ(tgt_.RequireChap("openmpio", "initiator-secret", "tgt", "target-secret-1"), "");
  const std::string sim =
      "\n[sim]\n[[sim.port]]\nrelative_target_port = 1\ntarget_port_group = 1\n"
      "[[sim.lu]]\nlun = 0\nsize = \"16MiB\"\nowner_group = 1\n";
  auto chap = [](const std::string& secret, const std::string& target_secret) {
    return "luns = [300]\nchap_username = \"openmpio\"\nchap_secret = \"" + secret +
           "\"\ntarget_chap_username = \"tgt\"\ntarget_chap_secret = \"" + target_secret + "\"\n";
  };

  START(ConfigText("command_timeout = 5\n", chap("initiator-secret", "target-secret-1")));
  ASSERT_EQ(rt_->Disks().size(), 1u);
  EXPECT_EQ(Info(0).paths.size(), 2u);
  rt_->Stop();
  rt_.reset();

  for (const auto& [ours, theirs] :
       {std::pair<std::string, std::string>{"wrong-secret-12", "target-secret-1"},
        {"initiator-secret", "wrong-secret-34"}}) {
    SCOPED_TRACE(ours + " / " + theirs);
    START(ConfigText("command_timeout = 5\n", chap(ours, theirs)) + sim);
    const auto disks = rt_->Disks();
    ASSERT_EQ(disks.size(), 1u);  // the sim's LU only
    EXPECT_EQ(disks[0].blocks * disks[0].block_size, 16u << 20);
    EXPECT_EQ(EventsWith("login failed"), 2u) << EventLog();  // once per path
    const std::string log = EventLog();
    EXPECT_NE(log.find(Tgt::kTarget), std::string::npos) << log;
    EXPECT_EQ(log.find(ours), std::string::npos) << "a secret in an event";
    EXPECT_EQ(log.find(theirs), std::string::npos) << "a secret in an event";
    std::vector<std::byte> in(4096);
    EXPECT_TRUE(runtime::SyncRead(rt_->Disk(0), 0, in).ok());
    rt_->Stop();
    rt_.reset();
  }
}

TEST_F(IscsiRuntimeTest, HeaderDigestCrc32cCarriesData) {
  START(ConfigText("command_timeout = 5\n", "luns = [300]\nheader_digest = \"crc32c\"\n"));
  ASSERT_EQ(rt_->Disks().size(), 1u);
  std::vector<std::byte> out(64 * 1024), in(out.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = std::byte(static_cast<std::uint8_t>(i * 31));
  ASSERT_TRUE(runtime::SyncWrite(rt_->Disk(0), 2 << 20, out).ok());
  ASSERT_TRUE(runtime::SyncRead(rt_->Disk(0), 2 << 20, in).ok());
  EXPECT_EQ(in, out);
  EXPECT_EQ(FileBytes(tgt_.dir() / "lun300.img", 2 << 20, out.size()), out);
}

// A second, independent initiator — qemu's iSCSI driver, its own session
// straight to tgt — reads what openmpio wrote through its two paths, and
// openmpio reads what qemu wrote. LUN 1: qemu 7.2 passes the LUN to libiscsi
// raw, so LUN 300 goes out as bus 1, LUN 44 and tgt answers 25/00 (the
// encoding IscsiNexus::WireLun gets right).
TEST_F(IscsiRuntimeTest, QemuSeesWhatOpenmpioWroteAndOpenmpioWhatQemuWrote) {
  if (!testing::HaveTool("qemu-io") ||
      openmpio::testing::RunTool("ls /usr/lib/*/qemu/block-iscsi.so").exit_code != 0) {
    GTEST_SKIP() << "qemu-io with the iSCSI driver (qemu-block-extra) not installed";
  }
  START(ConfigText("command_timeout = 5\n", "luns = [1]\n"));
  const auto h = rt_->Disk(0);
  std::vector<std::byte> out(256 * 1024, std::byte{0x6b});
  ASSERT_TRUE(runtime::SyncWrite(h, 5 << 20, out).ok());
  const std::string url = "iscsi://" + tgt_.portal() + "/" + Tgt::kTarget + "/1";
  const auto read =
      openmpio::testing::RunTool("qemu-io -f raw -c 'read -P 0x6b 5M 256k' '" + url + "' 2>&1");
  EXPECT_EQ(read.exit_code, 0) << read.output;
  EXPECT_NE(read.output.find("read 262144/262144 bytes"), std::string::npos) << read.output;
  EXPECT_EQ(read.output.find("Pattern verification failed"), std::string::npos) << read.output;

  const auto write =
      openmpio::testing::RunTool("qemu-io -f raw -c 'write -P 0x3c 7M 128k' '" + url + "' 2>&1");
  ASSERT_EQ(write.exit_code, 0) << write.output;
  std::vector<std::byte> in(128 * 1024);
  ASSERT_TRUE(runtime::SyncRead(h, 7 << 20, in).ok());
  EXPECT_EQ(in, std::vector<std::byte>(in.size(), std::byte{0x3c}));
}

// SendTargets at tgt: tgt reports only the portal the discovery session came
// in on (with tgt's one portal group tag, 1), even with a second portal
// listening; the path is named with that tag. (istgt reports every portal
// group: istgt_test.cpp.)
TEST_F(IscsiRuntimeTest, SendTargetsAtTgtReportsThePortalItCameInOn) {
  const int second = testing::FreePort();
  ASSERT_EQ(tgt_.AddPortal(second), "");
  SendTargetsRequest r;
  r.portal = tgt_.portal();
  r.initiator_name = kInitiator;
  r.deadline = 5s;
  auto found = SendTargets(r);
  ASSERT_TRUE(found.has_value()) << found.error().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->at(0).name, Tgt::kTarget);
  std::set<std::string> portals;
  for (const auto& p : found->at(0).portals) {
    portals.insert(p.portal);
    EXPECT_EQ(p.portal_group_tag, 1u);  // tgt: one target port
  }
  EXPECT_EQ(portals, (std::set<std::string>{tgt_.portal()}));

  START("[management]\nenabled = false\n\n[[target]]\nname = \"" + std::string(Tgt::kTarget) +
        "\"\nportals = [\"" + tgt_.portal() + "\"]\nsendtargets = true\nluns = [300]\n" +
        "initiator_name = \"" + kInitiator + "\"\n");
  const auto d = Info(0);
  ASSERT_EQ(d.paths.size(), 1u);
  dsm::NexusIdentity id;
  id.initiator_name = kInitiator;
  id.isid = runtime::PathIsid(kInitiator, Tgt::kTarget, tgt_.portal());
  id.target_name = Tgt::kTarget;
  id.portal_group_tag = 1;  // from SendTargets
  EXPECT_EQ(d.paths[0].id, dsm::MakeDsmPathId(id));

  // A discovery portal that does not answer is bounded by login_timeout.
  rt_->Stop();
  rt_.reset();
  r.portal = "127.0.0.1:" + std::to_string(testing::FreePort());
  r.deadline = 1s;
  const auto none = SendTargets(r);
  ASSERT_FALSE(none.has_value());
  EXPECT_TRUE(none.error().Is(NtStatus::kDeviceNotReady)) << none.error().ToString();
}

// A target's own command_timeout (1 s) instead of the global one (30 s),
// with the hedge off: a read stuck on a hung path comes back through the
// other path after that second and the ABORT TASK's own bound (5 s: the
// stopped path answers neither), not after 30.
TEST_F(IscsiRuntimeTest, ATargetsOwnCommandTimeoutBoundsAHungRead) {
  START(ConfigText("command_timeout = 30\nhedge_floor_ms = 0\n",
                   "luns = [300]\ncommand_timeout = 1\nnop_interval = 0\n"));
  ASSERT_TRUE(WaitBothPathsUsable(0, 5s));
  a_->Signal(SIGSTOP);
  std::vector<std::byte> in(4096);
  std::chrono::steady_clock::duration worst{};
  for (int i = 0; i < 8; ++i) {  // round robin: some of them go to the hung path
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(runtime::SyncRead(rt_->Disk(0), static_cast<std::uint64_t>(i) * 4096, in).ok());
    worst = std::max(worst, std::chrono::steady_clock::now() - t0);
  }
  a_->Signal(SIGCONT);
  EXPECT_GE(worst, 900ms) << "no read met the hung path";
  EXPECT_LT(worst, 10s) << EventLog();
}

// A portal that accepts TCP and never answers the login (a stopped socat),
// and one whose SYNs are dropped (nftables on lo): each is bounded by the
// login timeout, the other path carries the disk meanwhile, and the silent
// one becomes a path of the disk once it answers.
TEST_F(IscsiRuntimeTest, SilentPortalsAreBoundedByTheLoginTimeoutAndJoinWhenTheyAnswer) {
  b_->Signal(SIGSTOP);
  const auto t0 = std::chrono::steady_clock::now();
  START(ConfigText("command_timeout = 5\nRetryInterval = 1\n", "luns = [300]\n"));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 5s);  // login_timeout = 2 s, not libiscsi's minutes
  ASSERT_EQ(rt_->Disks().size(), 1u);
  EXPECT_EQ(Info(0).paths.size(), 1u);
  std::vector<std::byte> out(8192, std::byte{0x5a}), in(8192);
  const auto h = rt_->Disk(0);
  ASSERT_TRUE(runtime::SyncWrite(h, 0, out).ok());
  ASSERT_TRUE(runtime::SyncRead(h, 0, in).ok());
  EXPECT_EQ(in, out);
  b_->Signal(SIGCONT);
  EXPECT_TRUE(WaitBothPathsUsable(0, 10s)) << EventLog();
  rt_->Stop();
  rt_.reset();

  testing::SynDrop drop;
  const int dead = testing::FreePort();
  if (!testing::HaveTool("nft")) GTEST_SKIP() << "nft not installed";
  const std::string why = drop.Start(dead);
  if (!why.empty()) GTEST_SKIP() << why;
  const std::string text = "[management]\nenabled = false\n\n[[target]]\nname = \"" +
                           std::string(Tgt::kTarget) +
                           "\"\nportals = [\"127.0.0.1:" + std::to_string(dead) + "\", \"" +
                           a_->portal() + "\"]\nlogin_timeout = 2\nluns = [300]\n";
  const auto t1 = std::chrono::steady_clock::now();
  START(text);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 5s);
  ASSERT_EQ(rt_->Disks().size(), 1u);
  EXPECT_EQ(Info(0).paths.size(), 1u);
  ASSERT_TRUE(runtime::SyncRead(rt_->Disk(0), 0, in).ok());
  EXPECT_EQ(in, out);
}

}  // namespace
}  // namespace openmpio::transport::iscsi
