// Injected faults: which commands they hit (scope, command class, count,
// seeded probability) and what they do to them.
#include <algorithm>

#include "array/array_state.h"

namespace openmpio::array {
namespace {

bool InScope(const FaultSpec& f, const Command& cmd) {
  if (f.scope == FaultScope::kPort) return f.relative_target_port == cmd.port;
  return cmd.lu != nullptr && f.lun == cmd.lu->config.lun;
}

bool ClassMatches(const FaultSpec& f, CommandClass c) {
  return f.commands == FaultCommands::kAll || c == CommandClass::kMedia;
}

// The seeded draw and the count: true when the fault hits this command.
// mt19937_64 is specified exactly by the standard, so a seed replays the
// same hits on every platform.
bool Hits(ArrayState& s, ActiveFault& f) {
  if (f.spec.probability < 1.0) {
    const double u = static_cast<double>(s.rng() >> 11) * 0x1.0p-53;
    if (u >= f.spec.probability) return false;
  }
  if (f.spec.count != 0) --f.remaining;
  return true;
}

void RetireSpent(ArrayState& s) {
  std::erase_if(s.faults,
                [](const ActiveFault& f) { return f.spec.count != 0 && f.remaining == 0; });
}

}  // namespace

Status ValidateFault(const ArrayState& s, const FaultSpec& f) {
  if (f.scope == FaultScope::kPort && s.ports.count(f.relative_target_port) == 0) {
    return InvalidParameter("fault: no target port " + std::to_string(f.relative_target_port));
  }
  const bool needs_lu = f.scope == FaultScope::kLogicalUnit || f.kind == FaultKind::kCorruptRead ||
                        f.kind == FaultKind::kCapacityChange;
  if (needs_lu && s.lus.count(f.lun) == 0) {
    return InvalidParameter("fault: no LU " + std::to_string(f.lun));
  }
  if (!(f.probability > 0.0 && f.probability <= 1.0)) {
    return InvalidParameter("fault: probability must be in (0, 1]");
  }
  switch (f.kind) {
    case FaultKind::kStatus:
      if (f.status == scsi::ScsiStatus::kGood || f.status == scsi::ScsiStatus::kCheckCondition) {
        return InvalidParameter(
            "fault: a status fault is neither GOOD nor CHECK CONDITION "
            "(use a sense fault)");
      }
      return OkStatus();
    case FaultKind::kSense:
      if (f.sense.key == scsi::SenseKey::kNoSense && !f.sense.deferred) {
        return InvalidParameter("fault: a sense fault needs a sense key");
      }
      return OkStatus();
    case FaultKind::kTransitionStorm:
      if (f.duration <= Duration::zero()) return InvalidParameter("fault: storm without duration");
      return OkStatus();
    case FaultKind::kCorruptRead:
      if (f.block_count == 0) return InvalidParameter("fault: corrupt-on-read of zero blocks");
      return OkStatus();
    case FaultKind::kCapacityChange:
      if (f.new_blocks == 0 || f.new_blocks > kMaxLuBlocks) {
        return InvalidParameter("fault: new capacity must be 1..2^48 blocks");
      }
      return OkStatus();
  }
  return InvalidParameter("fault: unknown kind");
}

std::optional<scsi::ScsiStatus> StatusFault(ArrayState& s, const Command& cmd, CommandClass c) {
  for (ActiveFault& f : s.faults) {
    if (f.spec.kind != FaultKind::kStatus || !InScope(f.spec, cmd) || !ClassMatches(f.spec, c)) {
      continue;
    }
    if (Hits(s, f)) {
      const scsi::ScsiStatus status = f.spec.status;
      RetireSpent(s);
      return status;
    }
  }
  return std::nullopt;
}

std::optional<scsi::SenseSpec> SenseFault(ArrayState& s, const Command& cmd, CommandClass c) {
  for (ActiveFault& f : s.faults) {
    const bool sense = f.spec.kind == FaultKind::kSense;
    const bool storm = f.spec.kind == FaultKind::kTransitionStorm;
    if ((!sense && !storm) || !InScope(f.spec, cmd) || !ClassMatches(f.spec, c)) continue;
    if (storm && cmd.now >= f.deadline) continue;
    if (!Hits(s, f)) continue;
    const scsi::SenseSpec out =
        storm ? scsi::SenseSpec{scsi::SenseKey::kNotReady, scsi::asc::kAluaTransition, {}, false}
              : f.spec.sense;
    RetireSpent(s);
    return out;
  }
  return std::nullopt;
}

void CorruptRead(ArrayState& s, const Command& cmd, std::uint64_t lba, scsi::MutableBytes data) {
  const std::uint32_t bs = cmd.lu->config.block_size;
  const std::uint64_t blocks = data.size() / bs;
  bool any = false;
  for (ActiveFault& f : s.faults) {
    if (f.spec.kind != FaultKind::kCorruptRead || f.spec.lun != cmd.lu->config.lun) continue;
    if (f.spec.scope == FaultScope::kPort && f.spec.relative_target_port != cmd.port) continue;
    const std::uint64_t first = std::max(lba, f.spec.first_lba);
    const std::uint64_t end =
        std::min(lba + blocks,
                 f.spec.first_lba + std::min(f.spec.block_count, UINT64_MAX - f.spec.first_lba));
    if (first >= end || !Hits(s, f)) continue;
    for (std::uint64_t b = first; b < end; ++b) {
      // One byte per block, at a seeded offset, XORed with a non-zero value:
      // the block always differs from what was written.
      const std::uint64_t r = s.rng();
      const std::size_t at = static_cast<std::size_t>((b - lba) * bs + (r % bs));
      data[at] ^= std::byte{static_cast<std::uint8_t>(1U + ((r >> 32) % 255U))};
    }
    any = true;
  }
  if (any) RetireSpent(s);
}

}  // namespace openmpio::array
