// The engine on the sim fabric and the array's demo shape (2 groups x 2
// ports; LU 0 A/O through group 1 = ports 1,2 and A/N through group 2 =
// ports 3,4; LU 1 the opposite), all on one ManualExecutor: virtual time, so
// 20-second timers take no real time and every run is the same.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "array/array.h"
#include "common/manual_executor.h"
#include "engine/engine.h"
#include "transport/sim/sim_fabric.h"
#include "transport/sim/sim_nexus.h"

namespace openmpio::engine::testing {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Block contents that prove where they came from: bytes 0..7 the LBA, 8..15
// the write's stamp, a pattern of both, and an FNV-1a checksum in 508..511.
inline std::uint32_t Fnv(std::span<const std::byte> b) {
  std::uint32_t h = 2166136261U;
  for (std::byte x : b) h = (h ^ std::to_integer<std::uint32_t>(x)) * 16777619U;
  return h;
}

inline void FillBlock(std::span<std::byte> blk, std::uint64_t lba, std::uint64_t stamp) {
  for (std::size_t i = 0; i < 8; ++i) {
    blk[i] = std::byte(static_cast<std::uint8_t>(lba >> (8 * i)));
    blk[8 + i] = std::byte(static_cast<std::uint8_t>(stamp >> (8 * i)));
  }
  for (std::size_t i = 16; i < 508; ++i) {
    blk[i] = std::byte(static_cast<std::uint8_t>(lba * 31 + stamp * 17 + i));
  }
  const std::uint32_t h = Fnv(blk.first(508));
  for (std::size_t i = 0; i < 4; ++i) blk[508 + i] = std::byte(static_cast<std::uint8_t>(h >> (8 * i)));
}

// "" when the block is what the last write of `stamp` put there (stamp 0: never
// written, so zeros), else what is wrong.
inline std::string CheckBlock(std::span<const std::byte> blk, std::uint64_t lba,
                              std::uint64_t stamp) {
  if (stamp == 0) {
    for (std::byte x : blk) {
      if (x != std::byte{0}) return "unwritten block " + std::to_string(lba) + " not zero";
    }
    return "";
  }
  std::uint64_t got_lba = 0, got_stamp = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    got_lba |= std::uint64_t{std::to_integer<std::uint8_t>(blk[i])} << (8 * i);
    got_stamp |= std::uint64_t{std::to_integer<std::uint8_t>(blk[8 + i])} << (8 * i);
  }
  std::uint32_t h = 0;
  for (std::size_t i = 0; i < 4; ++i) h |= std::uint32_t{std::to_integer<std::uint8_t>(blk[508 + i])} << (8 * i);
  if (h != Fnv(blk.first(508))) return "block " + std::to_string(lba) + " checksum";
  if (got_lba != lba) return "block " + std::to_string(lba) + " holds lba " + std::to_string(got_lba);
  if (got_stamp != stamp) {
    return "block " + std::to_string(lba) + " stamp " + std::to_string(got_stamp) + " want " +
           std::to_string(stamp);
  }
  return "";
}

// Random reads and writes of 1..16 blocks over the first `region` blocks of a
// disk, `depth` at a time, never two at once on the same block (so the
// expected content of every block is known), each read checked block by block.
class Load {
 public:
  // Blocks [base, base + region) of the disk; they must never have been written.
  Load(DiskHandle disk, std::uint64_t region, std::uint32_t seed, std::uint64_t base = 0)
      : disk_(disk), rng_(seed), stamps_(region, 0), busy_(region, false), base_(base) {}

  // Completions may run on other threads (threads_test.cpp): then every
  // call and completion takes this lock (recursive: a request may complete
  // inside the call that issued it).
  void SetMutex(std::recursive_mutex* m) { mutex_ = m; }
  // With a clock, every request's latency (issue → callback) is measured;
  // max_latency() is the longest so far, ResetMaxLatency starts again.
  void SetClock(const Executor* clock) { clock_ = clock; }
  [[nodiscard]] Duration max_latency() const { return max_latency_; }
  void ResetMaxLatency() { max_latency_ = Duration{0}; }
  [[nodiscard]] std::size_t in_flight() const { return issued_ - completed_; }

  void Start(std::size_t total, std::size_t depth) {
    total_ += total;
    for (std::size_t i = 0; i < depth && issued_ < total_; ++i) IssueOne();
  }
  [[nodiscard]] bool done() const { return completed_ == total_; }
  std::size_t completed() const { return completed_; }
  std::size_t errors() const { return errors_; }
  std::size_t mismatches() const { return mismatches_; }
  const std::vector<std::string>& messages() const { return messages_; }
  const std::vector<Status>& statuses() const { return statuses_; }

 private:
  struct Op {
    bool write = false;
    std::uint64_t lba = 0;
    std::uint32_t blocks = 0;
    std::uint64_t stamp = 0;
    std::vector<std::byte> buf;
    TimePoint issued{};
  };

  void IssueOne() {
    const std::uint64_t region = stamps_.size();
    std::uniform_int_distribution<std::uint32_t> len(1, 16);
    std::uniform_int_distribution<std::uint64_t> at(0, region - 17);
    auto op = std::make_shared<Op>();
    for (int tries = 0; tries < 1000; ++tries) {
      op->blocks = len(rng_);
      op->lba = at(rng_);
      bool free = true;
      for (std::uint32_t i = 0; i < op->blocks; ++i) free = free && !busy_[op->lba + i];
      if (free) break;
      op->blocks = 0;
    }
    if (op->blocks == 0) return;
    for (std::uint32_t i = 0; i < op->blocks; ++i) busy_[op->lba + i] = true;
    ++issued_;
    op->write = (rng_() & 1U) != 0;
    op->buf.resize(std::size_t{op->blocks} * 512);
    const std::uint64_t offset = (base_ + op->lba) * 512;
    if (clock_ != nullptr) op->issued = clock_->Now();
    if (op->write) {
      op->stamp = ++next_stamp_;
      for (std::uint32_t i = 0; i < op->blocks; ++i) {
        FillBlock(std::span<std::byte>(op->buf).subspan(std::size_t{i} * 512, 512), op->lba + i,
                  op->stamp);
      }
      disk_.Write(offset, op->buf, [this, op](const Status& s) { Done(*op, s); });
    } else {
      disk_.Read(offset, op->buf, [this, op](const Status& s) { Done(*op, s); });
    }
  }

  void Done(Op& op, const Status& s) {
    std::unique_lock<std::recursive_mutex> lock;
    if (mutex_ != nullptr) lock = std::unique_lock<std::recursive_mutex>(*mutex_);
    ++completed_;
    if (clock_ != nullptr) max_latency_ = std::max(max_latency_, clock_->Now() - op.issued);
    if (!s.ok()) {
      ++errors_;
      statuses_.push_back(s);
      if (messages_.size() < 10) messages_.push_back(s.ToString());
      // A failed write leaves its blocks unknown: stop checking them.
      for (std::uint32_t i = 0; i < op.blocks; ++i) {
        if (op.write) stamps_[op.lba + i] = kUnknown;
      }
    } else {
      for (std::uint32_t i = 0; i < op.blocks; ++i) {
        const std::uint64_t lba = op.lba + i;
        if (op.write) {
          stamps_[lba] = op.stamp;
        } else if (stamps_[lba] != kUnknown) {
          const std::string why = CheckBlock(
              std::span<const std::byte>(op.buf).subspan(std::size_t{i} * 512, 512), lba, stamps_[lba]);
          if (!why.empty()) {
            ++mismatches_;
            if (messages_.size() < 10) messages_.push_back(why);
          }
        }
      }
    }
    for (std::uint32_t i = 0; i < op.blocks; ++i) busy_[op.lba + i] = false;
    if (issued_ < total_) IssueOne();
  }

  static constexpr std::uint64_t kUnknown = ~std::uint64_t{0};
  std::recursive_mutex* mutex_ = nullptr;
  const Executor* clock_ = nullptr;
  Duration max_latency_{0};
  DiskHandle disk_;
  std::mt19937_64 rng_;
  std::vector<std::uint64_t> stamps_;
  std::vector<bool> busy_;
  std::uint64_t base_ = 0;
  std::uint64_t next_stamp_ = 0;
  std::size_t total_ = 0, issued_ = 0, completed_ = 0, errors_ = 0, mismatches_ = 0;
  std::vector<std::string> messages_;
  std::vector<Status> statuses_;
};

class EngineFixture : public ::testing::Test {
 protected:
  static EngineConfig TestConfig() {
    EngineConfig c;
    c.command_timeout = seconds(2);
    return c;
  }

  // Wraps a nexus before the engine gets it (recorded_commands_test.cpp).
  using NexusWrapper = std::function<std::unique_ptr<transport::TransportNexus>(
      std::unique_ptr<transport::TransportNexus>, std::uint16_t port)>;

  void Build(array::ArrayConfig cfg = array::DemoArrayConfig(1U << 16),
             EngineConfig ec = TestConfig(), const NexusWrapper& wrap = nullptr) {
    auto a = array::Array::Create(cfg);
    ASSERT_TRUE(a.has_value()) << a.error().ToString();
    array_ = std::move(*a);
    fabric_ = std::make_unique<transport::sim::SimFabric>(*array_, array_->config().target_name);
    engine_ = std::make_unique<Engine>(ec, ex_);
    for (std::uint16_t p = 1; p <= 4; ++p) {
      fabric_->AddPort(p, transport::sim::LinkModel{std::chrono::microseconds(100), 0, {}});
    }
    for (std::uint16_t p = 1; p <= 4; ++p) {
      transport::sim::SimNexusOptions o;
      o.isid = 0x023D00000000ULL + p;
      o.command_timeout = ec.command_timeout;
      std::unique_ptr<transport::TransportNexus> n = fabric_->CreateNexus(ex_, p, o);
      engine_->AddNexus(wrap ? wrap(std::move(n), p) : std::move(n), ex_);
    }
    ASSERT_TRUE(RunUntil([this] { return engine_->DiscoveryIdle(); }, seconds(30)))
        << "discovery did not finish";
  }

  void TearDown() override {
    // Engine::~Engine wants nothing outstanding: heal every link and let the
    // probes and fences in flight finish (held commands would otherwise be
    // dropped with their nexus, and their internal contexts leak).
    if (fabric_) {
      for (std::uint16_t p = 1; p <= 4; ++p) fabric_->Restore(p);
      ex_.RunFor(seconds(40));
    }
    engine_.reset();
    fabric_.reset();
  }

  // Drives virtual time until pred holds or `limit` passes.
  bool RunUntil(const std::function<bool()>& pred, Duration limit) {
    const TimePoint end = ex_.Now() + limit;
    for (;;) {
      ex_.RunUntilIdle();
      if (pred()) return true;
      const auto next = ex_.NextDue();
      if (!next || *next > end) {
        ex_.AdvanceTo(end);
        return pred();
      }
      ex_.AdvanceTo(*next);
    }
  }

  // Starts one request (`start` is given its callback) and drives virtual
  // time until it completes; STATUS_IO_TIMEOUT "no answer" (and a test
  // failure) when it does not within `limit`.
  Status RunOne(const std::function<void(IoCallback)>& start, Duration limit = seconds(60)) {
    std::optional<Status> got;
    start([&got](const Status& s) { got = s; });
    EXPECT_TRUE(RunUntil([&got] { return got.has_value(); }, limit)) << "request hung";
    return got.value_or(Status(NtStatus::kIoTimeout, "no answer"));
  }

  // A fault of the array on every command of LU `lun` (fill in the rest).
  static array::FaultSpec LuFault(std::uint64_t lun, array::FaultKind kind) {
    array::FaultSpec f;
    f.scope = array::FaultScope::kLogicalUnit;
    f.lun = lun;
    f.kind = kind;
    return f;
  }

  // The disk of LU n: the one whose group (1 for LU 0, 2 for LU 1) is A/O.
  std::size_t DiskOfLu(std::uint64_t lun) {
    const std::uint16_t owner = lun == 0 ? 1 : 2;
    for (const DiskInfo& d : engine_->Disks()) {
      for (const GroupInfo& g : d.groups) {
        if (g.tpg_id == owner && g.state.active() &&
            g.state.raw == static_cast<std::uint8_t>(scsi::AsymmetricAccessState::kActiveOptimized)) {
          return d.index;
        }
      }
    }
    ADD_FAILURE() << "no disk for LU " << lun;
    return 0;
  }

  // Fail Over Only on `disk` with its path through port `rtp` preferred.
  void UseFailOverOnly(std::size_t disk, std::uint16_t rtp) {
    const DiskInfo d = engine_->Disks()[disk];
    const PathInfo* p = PathOnPort(d, rtp);
    ASSERT_NE(p, nullptr) << "no path through port " << rtp;
    const Status s =
        engine_->SetLoadBalancePolicy(disk, dsm::LoadBalancePolicy::kFailOverOnly, p->id);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  const PathInfo* PathOnPort(const DiskInfo& d, std::uint16_t rtp) {
    for (const PathInfo& p : d.paths) {
      if (p.relative_target_port == rtp) return &p;
    }
    return nullptr;
  }

  // Media commands (reads + writes) the array saw through a port.
  std::uint64_t Media(std::uint16_t port) {
    auto c = array_->Counters(port);
    return c ? c->reads + c->writes : 0;
  }

  bool RunLoad(Load& load, Duration limit = seconds(120)) {
    return RunUntil([&load] { return load.done(); }, limit);
  }

  ManualExecutor ex_;  // first: destroyed last
  std::unique_ptr<array::Array> array_;
  std::unique_ptr<transport::sim::SimFabric> fabric_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace openmpio::engine::testing
