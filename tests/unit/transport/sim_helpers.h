// Helpers of the sim transport tests: hand-built CDBs and a recorder of
// completions (a plain function pointer + context, as transport.h wants).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/manual_executor.h"
#include "openmpio/status.h"
#include "scsi/cdb.h"
#include "transport/sim/sim_fabric.h"
#include "transport/sim/sim_nexus.h"
#include "transport/transport.h"

namespace openmpio::transport::sim::testing {

// READ(16) / WRITE(16), SBC-3 5.8 / 5.32: opcode, flags, LBA bytes 2..9
// (big-endian), TRANSFER LENGTH in blocks bytes 10..13, group, control.
inline scsi::Cdb Rw16(std::uint8_t opcode, std::uint64_t lba, std::uint32_t blocks) {
  scsi::Cdb c;
  c.length = 16;
  c.bytes[0] = std::byte{opcode};
  for (int i = 0; i < 8; ++i) {
    c.bytes[static_cast<std::size_t>(2 + i)] =
        std::byte(static_cast<std::uint8_t>(lba >> (56 - 8 * i)));
  }
  for (int i = 0; i < 4; ++i) {
    c.bytes[static_cast<std::size_t>(10 + i)] =
        std::byte(static_cast<std::uint8_t>(blocks >> (24 - 8 * i)));
  }
  return c;
}

inline Command WriteCommand(std::uint64_t lun, std::uint64_t lba, std::span<const std::byte> data,
                            std::uint32_t block_size = 512) {
  Command c;
  c.lun = lun;
  c.cdb = Rw16(scsi::op::kWrite16, lba, static_cast<std::uint32_t>(data.size() / block_size));
  c.direction = Direction::kToDevice;
  c.data_out = data;
  return c;
}

inline Command ReadCommand(std::uint64_t lun, std::uint64_t lba, std::span<std::byte> buffer,
                           std::uint32_t block_size = 512) {
  Command c;
  c.lun = lun;
  c.cdb = Rw16(scsi::op::kRead16, lba, static_cast<std::uint32_t>(buffer.size() / block_size));
  c.direction = Direction::kFromDevice;
  c.data_in = buffer;
  return c;
}

struct Completion {
  TaskTag tag = 0;
  Result result;
  TimePoint at{};
};

// Records completions; reserve() first where a test counts allocations.
class Recorder {
 public:
  explicit Recorder(const Executor& ex) : ex_(ex) { seen_.reserve(4096); }

  static void Fn(void* context, TaskTag tag, const Result& result) {
    auto* self = static_cast<Recorder*>(context);
    EXPECT_TRUE(self->ex_.InExecutorThread());
    self->seen_.push_back(Completion{tag, result, self->ex_.Now()});
  }

  [[nodiscard]] std::size_t count() const { return seen_.size(); }
  [[nodiscard]] std::size_t count(TaskTag tag) const {
    std::size_t n = 0;
    for (const auto& c : seen_) n += c.tag == tag ? 1U : 0U;
    return n;
  }
  [[nodiscard]] const Completion* find(TaskTag tag) const {
    for (const auto& c : seen_) {
      if (c.tag == tag) return &c;
    }
    return nullptr;
  }
  std::vector<Completion>& all() { return seen_; }

 private:
  const Executor& ex_;
  std::vector<Completion> seen_;
};

// Runs a Connect / Logout to its callback on a ManualExecutor.
inline std::optional<Status> RunStatusCall(ManualExecutor& ex,
                                           void (TransportNexus::*call)(StatusCallback),
                                           TransportNexus& nexus,
                                           Duration limit = std::chrono::seconds(60)) {
  std::optional<Status> got;
  (nexus.*call)([&got](const Status& s) { got = s; });
  EXPECT_FALSE(got.has_value()) << "callback ran inside the call";
  const TimePoint end = ex.Now() + limit;
  while (!got && ex.Now() < end) {
    ex.RunUntilIdle();
    if (got) break;
    auto next = ex.NextDue();
    if (!next || *next > end) break;
    ex.AdvanceTo(*next);
  }
  return got;
}

inline std::optional<Status> ConnectNow(ManualExecutor& ex, TransportNexus& nexus) {
  return RunStatusCall(ex, &TransportNexus::Connect, nexus);
}

}  // namespace openmpio::transport::sim::testing
