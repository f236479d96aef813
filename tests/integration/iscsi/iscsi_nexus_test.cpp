// IscsiNexus against a real tgtd on 127.0.0.1, driven on a real Reactor:
// login and data round trips, a LUN >= 256, a path cut mid-I/O, a portal
// that accepts TCP and never answers the login, and a hung path past the
// command timeout (our ABORT TASK). Skips without tgtd/socat or root.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "iscsi_harness.h"
#include "scsi/block_commands.h"
#include "scsi/inquiry.h"
#include "scsi/read_capacity.h"

namespace openmpio::transport::iscsi {
namespace {

using namespace std::chrono_literals;
using testing::AwaitOnReactor;
using testing::Completions;
using testing::OnReactor;
using testing::Proxy;
using testing::Tgt;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kBlock = 512;

NexusAddress AddressFor(const std::string& portal) {
  NexusAddress a;
  a.initiator_name = "iqn.2024-01.test:openmpio-initiator";
  a.isid = 0x023d00001234ULL;  // OUI format, fixed: a reconnect reinstates
  a.target_name = Tgt::kTarget;
  a.portal = portal;
  return a;
}

class IscsiNexusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveTool("tgtd") || !testing::HaveTool("tgtadm") || !testing::HaveTool("socat")) {
      GTEST_SKIP() << "tgtd/tgtadm/socat not installed";
    }
    if (geteuid() != 0) GTEST_SKIP() << "tgtd needs root";
    const std::string why = tgt_.Start();
    ASSERT_EQ(why, "") << why;
  }
  void TearDown() override {
    if (nexus_ != nullptr) {
      OnReactor(reactor_, [this] { nexus_.reset(); });
    }
    reactor_.Stop();
  }

  void Make(const std::string& portal, IscsiNexusOptions options = {}) {
    OnReactor(reactor_, [&] {
      nexus_ = std::make_unique<IscsiNexus>(reactor_, AddressFor(portal), options);
      nexus_->SetStateListener([this](NexusState s) {
        std::lock_guard<std::mutex> lock(mu_);
        told_.push_back(s);
      });
    });
  }
  Status Connect() {
    return AwaitOnReactor<Status>(reactor_, [this](auto done) { nexus_->Connect(done); });
  }
  Status Logout() {
    return AwaitOnReactor<Status>(reactor_, [this](auto done) { nexus_->Logout(done); });
  }
  NexusState State() {
    return OnReactor(reactor_, [this] { return nexus_->state(); });
  }
  std::vector<NexusState> Told() {
    std::lock_guard<std::mutex> lock(mu_);
    return told_;
  }
  TaskTag SubmitOn(const Command& c, Completions& done) {
    return OnReactor(reactor_, [&] { return nexus_->Submit(c, &Completions::Fn, &done); });
  }
  // Submits and waits for the one completion; repeats after a UNIT
  // ATTENTION (tgt reports 29/00 to a new session's first command).
  Result Run(const Command& c) {
    Result r;
    for (int attempt = 0; attempt < 3; ++attempt) {
      Completions done;
      SubmitOn(c, done);
      EXPECT_TRUE(done.WaitFor(1, 15s));
      std::lock_guard<std::mutex> lock(done.mu);
      if (done.entries.empty()) return Result{};
      r = done.entries.front().result;
      const bool unit_attention = r.outcome == Outcome::kCompleted &&
                                  r.status == scsi::ScsiStatus::kCheckCondition &&
                                  r.sense_length >= 3 &&
                                  (std::to_integer<int>(r.sense[2]) & 0x0f) == 0x06;
      if (!unit_attention) break;
    }
    return r;
  }

  static Command DataIn(std::uint64_t lun, const scsi::Cdb& cdb, std::vector<std::byte>& buf) {
    Command c;
    c.lun = lun;
    c.cdb = cdb;
    c.direction = Direction::kFromDevice;
    c.data_in = buf;
    return c;
  }
  // READ(16) / WRITE(16) of buf's whole blocks at lba.
  static Command Block(std::uint64_t lun, std::uint64_t lba, std::size_t bytes, bool write) {
    Command c;
    c.lun = lun;
    const auto blocks = static_cast<std::uint32_t>(bytes / kBlock);
    c.cdb = write ? scsi::BuildWrite16Cdb({.lba = lba, .transfer_length = blocks})
                  : scsi::BuildRead16Cdb({.lba = lba, .transfer_length = blocks});
    c.direction = write ? Direction::kToDevice : Direction::kFromDevice;
    return c;
  }
  static Command Read(std::uint64_t lun, std::uint64_t lba, std::vector<std::byte>& buf) {
    return DataIn(lun, Block(lun, lba, buf.size(), false).cdb, buf);
  }
  static Command Write(std::uint64_t lun, std::uint64_t lba, const std::vector<std::byte>& buf) {
    Command c = Block(lun, lba, buf.size(), true);
    c.data_out = buf;
    return c;
  }
  std::uint64_t LastLba(std::uint64_t lun) {
    std::vector<std::byte> buf(32);
    const Result r = Run(DataIn(lun, scsi::BuildReadCapacity16Cdb({.allocation_length = 32}), buf));
    EXPECT_EQ(r.outcome, Outcome::kCompleted);
    EXPECT_EQ(r.status, scsi::ScsiStatus::kGood);
    const auto d = scsi::ParseReadCapacity16(std::span<const std::byte>(buf.data(), r.data_in_length));
    EXPECT_TRUE(d.has_value());
    return d.has_value() ? d->last_lba : 0;
  }

  static std::vector<std::byte> Pattern(std::size_t n, std::uint8_t seed) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<std::uint8_t>(seed + i * 7));
    return v;
  }

  Tgt tgt_;
  Reactor reactor_;
  std::unique_ptr<IscsiNexus> nexus_;
  std::mutex mu_;
  std::vector<NexusState> told_;
};

TEST_F(IscsiNexusTest, LoginInquiryReadCapacityWriteReadRoundTrip) {
  Make(tgt_.portal());
  const Status st = Connect();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(State(), NexusState::kConnected);

  std::vector<std::byte> inq(96);
  const Result r = Run(DataIn(1, scsi::BuildInquiryCdb(false, 0, 96), inq));
  ASSERT_EQ(r.outcome, Outcome::kCompleted);
  ASSERT_EQ(r.status, scsi::ScsiStatus::kGood);
  const auto parsed = scsi::ParseStandardInquiry(std::span<const std::byte>(inq.data(), r.data_in_length));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->peripheral_qualifier, 0);
  EXPECT_EQ(parsed->peripheral_device_type, 0);

  EXPECT_EQ(LastLba(1), Tgt::kLun1Bytes / kBlock - 1);

  const auto out = Pattern(64 * 1024, 3);  // more than one data-out PDU
  const Result w = Run(Write(1, 100, out));
  ASSERT_EQ(w.outcome, Outcome::kCompleted);
  ASSERT_EQ(w.status, scsi::ScsiStatus::kGood);
  std::vector<std::byte> in(out.size());
  const Result rd = Run(Read(1, 100, in));
  ASSERT_EQ(rd.outcome, Outcome::kCompleted);
  ASSERT_EQ(rd.status, scsi::ScsiStatus::kGood);
  EXPECT_EQ(rd.data_in_length, in.size());
  EXPECT_TRUE(in == out);

  // A CHECK CONDITION carries its sense: READ past the end → ILLEGAL REQUEST.
  std::vector<std::byte> past(kBlock);
  const Result bad = Run(Read(1, Tgt::kLun1Bytes / kBlock, past));
  ASSERT_EQ(bad.outcome, Outcome::kCompleted);
  EXPECT_EQ(bad.status, scsi::ScsiStatus::kCheckCondition);
  ASSERT_GE(bad.sense_length, 3);
  EXPECT_EQ(std::to_integer<int>(bad.sense[2]) & 0x0f, 0x05);  // ILLEGAL REQUEST

  const Status lo = Logout();
  EXPECT_TRUE(lo.ok()) << lo.ToString();
  EXPECT_EQ(State(), NexusState::kDisconnected);
  EXPECT_TRUE(Told().empty());  // only asked-for changes happened
}

TEST_F(IscsiNexusTest, Lun300IsReachedInFlatSpace) {
  EXPECT_EQ(IscsiNexus::WireLun(1), 1);
  EXPECT_EQ(IscsiNexus::WireLun(300), 0x4000 | 300);
  EXPECT_EQ(IscsiNexus::WireLun(0x4000), -1);
  Make(tgt_.portal());
  ASSERT_TRUE(Connect().ok());
  // Different sizes: the answer comes from LUN 300, not from "bus 1, LUN 44".
  EXPECT_EQ(LastLba(300), Tgt::kLun300Bytes / kBlock - 1);
  EXPECT_EQ(LastLba(1), Tgt::kLun1Bytes / kBlock - 1);

  const auto out = Pattern(8 * kBlock, 11);
  ASSERT_EQ(Run(Write(300, 10, out)).status, scsi::ScsiStatus::kGood);
  std::vector<std::byte> in(out.size());
  ASSERT_EQ(Run(Read(300, 10, in)).status, scsi::ScsiStatus::kGood);
  EXPECT_TRUE(in == out);
  std::vector<std::byte> other(out.size(), std::byte{0x5a});
  ASSERT_EQ(Run(Read(1, 10, other)).status, scsi::ScsiStatus::kGood);
  EXPECT_FALSE(other == out);
  EXPECT_TRUE(std::all_of(other.begin(), other.end(), [](std::byte b) { return b == std::byte{0}; }));
}

TEST_F(IscsiNexusTest, ProxyKilledMidIoLosesEveryCommandOnceThenReconnects) {
  Proxy proxy(tgt_.port(), (tgt_.dir() / "socat.log").string());
  ASSERT_TRUE(proxy.Start());
  Make(proxy.portal());
  ASSERT_TRUE(Connect().ok());

  // Hold the path, queue I/O on it, then cut it.
  proxy.Signal(SIGSTOP);
  constexpr std::size_t kCommands = 8;
  std::vector<std::vector<std::byte>> bufs(kCommands, std::vector<std::byte>(64 * 1024));
  Completions done;
  std::vector<TaskTag> tags;
  for (std::size_t i = 0; i < kCommands; ++i) {
    tags.push_back(i % 2 == 0 ? SubmitOn(Read(1, i * 128, bufs[i]), done)
                              : SubmitOn(Write(1, i * 128, bufs[i]), done));
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(done.size(), 0u);
  proxy.Kill();

  ASSERT_TRUE(done.WaitFor(kCommands, 10s));
  std::this_thread::sleep_for(300ms);  // nothing more may come
  {
    std::lock_guard<std::mutex> lock(done.mu);
    ASSERT_EQ(done.entries.size(), kCommands);
    std::vector<TaskTag> seen;
    for (const auto& e : done.entries) {
      EXPECT_EQ(e.result.outcome, Outcome::kConnectionLost) << OutcomeName(e.result.outcome);
      seen.push_back(e.tag);
    }
    std::sort(seen.begin(), seen.end());
    std::sort(tags.begin(), tags.end());
    EXPECT_EQ(seen, tags);  // each exactly once
  }
  EXPECT_EQ(State(), NexusState::kFailed);
  EXPECT_EQ(Told(), std::vector<NexusState>{NexusState::kFailed});
  EXPECT_EQ(OnReactor(reactor_, [this] { return nexus_->outstanding(); }), 0u);

  // The path comes back on the same port: Connect() again (same ISID).
  Proxy again(tgt_.port(), (tgt_.dir() / "socat2.log").string());
  ASSERT_TRUE(again.Start(proxy.port()));
  const Status st = Connect();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(State(), NexusState::kConnected);
  std::vector<std::byte> in(kBlock);
  const Result r = Run(Read(1, 0, in));
  EXPECT_EQ(r.outcome, Outcome::kCompleted);
  EXPECT_EQ(r.status, scsi::ScsiStatus::kGood);
}

TEST_F(IscsiNexusTest, LoginToAStoppedProxyFailsAtTheConnectDeadline) {
  Proxy proxy(tgt_.port(), (tgt_.dir() / "socat.log").string());
  ASSERT_TRUE(proxy.Start());
  proxy.Signal(SIGSTOP);  // the kernel still accepts; nobody answers the login
  IscsiNexusOptions o;
  o.connect_timeout = 1500ms;
  Make(proxy.portal(), o);
  const auto t0 = Clock::now();
  const Status st = Connect();
  const auto took = Clock::now() - t0;
  EXPECT_TRUE(st.Is(NtStatus::kIoTimeout)) << st.ToString();
  EXPECT_NE(st.message().find("not done within 1500 ms"), std::string::npos) << st.message();
  EXPECT_GE(took, 1400ms);
  EXPECT_LT(took, 3s);
  EXPECT_NE(State(), NexusState::kConnected);
  EXPECT_NE(State(), NexusState::kConnecting);
  proxy.Kill();
}

TEST_F(IscsiNexusTest, HungPathPastTimeoutSendsAbortTaskAndCompletesOnce) {
  Proxy proxy(tgt_.port(), (tgt_.dir() / "socat.log").string());
  ASSERT_TRUE(proxy.Start());
  IscsiNexusOptions o;
  o.tmf_timeout = 1000ms;
  Make(proxy.portal(), o);
  ASSERT_TRUE(Connect().ok());

  proxy.Signal(SIGSTOP);
  std::vector<std::byte> in(4 * kBlock, std::byte{0xaa});
  Command c = Read(1, 0, in);
  c.timeout_ms = 1000;
  Completions done;
  const auto t0 = Clock::now();
  const TaskTag tag = SubmitOn(c, done);
  ASSERT_TRUE(done.WaitFor(1, 8s));
  std::this_thread::sleep_for(300ms);
  {
    std::lock_guard<std::mutex> lock(done.mu);
    ASSERT_EQ(done.entries.size(), 1u);  // once
    const auto& e = done.entries.front();
    EXPECT_EQ(e.tag, tag);
    // The ABORT TASK cannot pass a stopped path: no answer → kTimeout.
    EXPECT_EQ(e.result.outcome, Outcome::kTimeout) << OutcomeName(e.result.outcome);
    const auto took = e.at - t0;
    EXPECT_GE(took, 1900ms);  // command timeout + TMF timeout
    EXPECT_LT(took, 3500ms);
  }
  EXPECT_EQ(OnReactor(reactor_, [this] { return nexus_->timeout_aborts_sent(); }), 1u);
  EXPECT_EQ(State(), NexusState::kFailed);
  EXPECT_EQ(Told(), std::vector<NexusState>{NexusState::kFailed});
  proxy.Kill();
}

TEST_F(IscsiNexusTest, AbandonedReadNeverTouchesTheCallerBufferAndKeepsTheSession) {
  Make(tgt_.portal());
  ASSERT_TRUE(Connect().ok());
  const auto out = Pattern(4 * kBlock, 42);
  ASSERT_EQ(Run(Write(1, 2000, out)).status, scsi::ScsiStatus::kGood);
  Proxy proxy(tgt_.port(), (tgt_.dir() / "socat.log").string());
  ASSERT_TRUE(proxy.Start());
  OnReactor(reactor_, [this] { nexus_.reset(); });
  Make(proxy.portal());
  ASSERT_TRUE(Connect().ok());

  proxy.Signal(SIGSTOP);
  std::vector<std::byte> in(out.size(), std::byte{0xaa});
  Completions done;
  const TaskTag tag = SubmitOn(Read(1, 2000, in), done);
  std::this_thread::sleep_for(100ms);
  // No LU reset with a command outstanding (1.19 would cancel it locally).
  const TmfResponse reset = AwaitOnReactor<TmfResponse>(
      reactor_, [this](auto cb) { nexus_->LogicalUnitReset(1, cb); });
  EXPECT_EQ(reset, TmfResponse::kRejected);
  OnReactor(reactor_, [&] { nexus_->Abandon(tag); });
  ASSERT_TRUE(done.WaitFor(1, 2s));
  {
    std::lock_guard<std::mutex> lock(done.mu);
    EXPECT_EQ(done.entries.front().result.outcome, Outcome::kAbandoned);
  }
  // The answer arrives late: it lands in the scratch copy, not in `in`.
  proxy.Signal(SIGCONT);
  std::vector<std::byte> again(out.size());
  const Result r = Run(Read(1, 2000, again));
  EXPECT_EQ(r.outcome, Outcome::kCompleted);
  EXPECT_TRUE(again == out);
  EXPECT_TRUE(std::all_of(in.begin(), in.end(), [](std::byte b) { return b == std::byte{0xaa}; }));
  EXPECT_EQ(done.size(), 1u);
  EXPECT_EQ(State(), NexusState::kConnected);
  EXPECT_EQ(OnReactor(reactor_, [this] { return nexus_->outstanding(); }), 0u);
  proxy.Kill();
}

}  // namespace
}  // namespace openmpio::transport::iscsi
