// The error interpretation table (the DsmInterpretError role, DESIGN.md
// "Error interpretation"): every completion of a request is classified into
// one action the engine carries out. The rows are spec/scsi-alua.md's two
// sense tables, one row each, plus the defaults for answers they do not name.
//
// The table is data: a constexpr array of rules {match, action, bounds,
// follow-ups, text}. A completion is matched against every rule and the most
// specific match wins (key + ASC + ASCQ over key + ASC over key alone over a
// status alone over the catch-all). It matches plain numbers, so it needs no
// sense decoder; InterpretSense() adapts a decoded scsi::SenseData.
//
// Pure: no clocks, no I/O. Retry bounds come from the caller (RetryCount of
// MPIO_TIMERS_COUNTERS, spec/msdsm.md §5), as does every fact about other
// paths or fences.
#pragma once

#include <cstdint>
#include <span>

#include "scsi/cdb.h"
#include "scsi/parse_error.h"
#include "scsi/sense.h"

namespace openmpio::dsm {

// What came back for one request on one path.
enum class CompletionKind : std::uint8_t {
  kScsi,            // the target answered: a SCSI status (and sense)
  kConnectionLost,  // transport: the connection dropped under the command
  kCancelled,       // transport: the command was cancelled locally (libiscsi CANCELLED)
  kCommandTimeout,  // transport: no answer within command_timeout
  kLoginFailure,    // transport: the session could not be (re)established
};

// What the sense buffer of a CHECK CONDITION held.
enum class SenseKind : std::uint8_t {
  kAbsent,    // no sense, or too short for its format: malformed answer
  kCurrent,   // response code 0x70 / 0x72: about this command
  kDeferred,  // response code 0x71 / 0x73: about an EARLIER command (SPC-4 4.5.5)
};

// A classified completion. Sense fields mean something only for
// kScsi + CHECK CONDITION + sense != kAbsent.
struct Completion {
  CompletionKind kind = CompletionKind::kScsi;
  scsi::ScsiStatus status = scsi::ScsiStatus::kGood;
  SenseKind sense = SenseKind::kAbsent;
  std::uint8_t key = 0;   // SENSE KEY (0..0xF)
  std::uint8_t asc = 0;   // ADDITIONAL SENSE CODE
  std::uint8_t ascq = 0;  // ADDITIONAL SENSE CODE QUALIFIER

  static constexpr Completion Transport(CompletionKind k) { return Completion{k}; }
  static constexpr Completion Scsi(scsi::ScsiStatus s) {
    return Completion{CompletionKind::kScsi, s};
  }
  // CHECK CONDITION with current sense.
  static constexpr Completion Check(std::uint8_t key, std::uint8_t asc, std::uint8_t ascq) {
    return Completion{CompletionKind::kScsi, scsi::ScsiStatus::kCheckCondition,
                      SenseKind::kCurrent, key, asc, ascq};
  }
  static constexpr Completion Deferred(std::uint8_t key, std::uint8_t asc, std::uint8_t ascq) {
    return Completion{CompletionKind::kScsi, scsi::ScsiStatus::kCheckCondition,
                      SenseKind::kDeferred, key, asc, ascq};
  }
  // CHECK CONDITION whose sense was empty or too short to decode.
  static constexpr Completion CheckWithoutSense() {
    return Completion{CompletionKind::kScsi, scsi::ScsiStatus::kCheckCondition};
  }
};

// What the rules need to know beyond the completion itself.
struct ErrorContext {
  // A WRITE / UNMAP / WRITE SAME that may still reach the target later
  // (DESIGN.md "Write fencing"). False for reads and for commands the engine
  // knows never left.
  bool write_may_be_in_flight = false;
  // Another usable path serves this LU (ILLEGAL REQUEST 25/00: "LUN not
  // mapped on this port" is a path fault only if some other port maps it).
  bool other_path_serves_lu = false;
  // We aborted this command ourselves (ABORT TASK / LU RESET as a fence), so
  // its TASK ABORTED is our doing, not the target's.
  bool fenced_by_us = false;
  // 04/0A: the implicit transition time (or the 60 s default, DESIGN.md
  // "Timers") has passed since the first 04/0A for this request.
  bool transition_time_exceeded = false;
  // How many times this request was already retried after a bounded rule.
  std::uint32_t retries_done = 0;
  // RetryCount (MPIO_TIMERS_COUNTERS, default 3, max 500).
  std::uint32_t retry_count = 3;
};

// The one thing the engine does with the request.
enum class ErrorAction : std::uint8_t {
  kComplete,               // the request is done (successfully)
  kRetrySamePath,          // re-issue on the same path after `delay`
  kRefreshAluaRedispatch,  // RTPG first (awaited), then let the policy pick a path again
  kFailPathRedispatch,     // mark the path failed, re-dispatch now on another usable path
                           // (fence first when ErrorDecision::fence_first)
  kFailToCaller,           // the request fails; no failover can help
  kDeferredError,          // record the deferred error on the disk (fail its next
                           // SYNCHRONIZE CACHE), count it; the current command was not
                           // performed (SPC-4 4.5.5): re-issue it on the same path
};

const char* ErrorActionName(ErrorAction a) noexcept;

// How long to wait before the action.
enum class RetryDelay : std::uint8_t {
  kNone,            // at once (unit attentions are cleared by being reported)
  kRetryInterval,   // RetryInterval (MPIO timers): back-off on the same path
  kTransitionPause, // a short pause, repeated until the implicit transition time
};

// How retries of one rule are bounded.
enum class RetryBound : std::uint8_t {
  kNone,            // not a same-path retry, nothing to bound
  kRetryCount,      // at most RetryCount retries, then `exhausted`
  kOnce,            // one retry, then `exhausted`
  kTransitionTime,  // until ErrorContext::transition_time_exceeded, then `exhausted`
};

// The condition a rule's action depends on (then `action`, else `otherwise`).
enum class RuleCondition : std::uint8_t {
  kNone,
  kOtherPathServesLu,  // ErrorContext::other_path_serves_lu
  kFencedByUs,         // ErrorContext::fenced_by_us
};

// Side effects the engine starts besides the action (a mask of these).
// kRefreshAlua with kRefreshAluaRedispatch is awaited; otherwise they run
// beside the retry.
namespace follow_up {
inline constexpr std::uint8_t kNone = 0;
inline constexpr std::uint8_t kRefreshAlua = 1U << 0;      // RTPG for the LU (coalesced)
inline constexpr std::uint8_t kRescanLuns = 1U << 1;       // REPORT LUNS on the nexus
inline constexpr std::uint8_t kReReadCapacity = 1U << 2;   // READ CAPACITY(16)
inline constexpr std::uint8_t kReReadIdentity = 1U << 3;   // INQUIRY + VPD 0x83
inline constexpr std::uint8_t kCountRecovered = 1U << 4;   // recovered-error counter
inline constexpr std::uint8_t kCountDeferred = 1U << 5;    // deferred-error counter + log
}  // namespace follow_up

// A match field that accepts anything.
inline constexpr std::int16_t kAny = -1;

struct ErrorMatch {
  CompletionKind kind = CompletionKind::kScsi;
  std::int16_t status = kAny;  // scsi::ScsiStatus value or kAny (kScsi only)
  SenseKind sense = SenseKind::kCurrent;  // compared only when key/asc/ascq or status is CC
  std::int16_t key = kAny;
  std::int16_t asc = kAny;
  std::int16_t ascq = kAny;
};

struct ErrorRule {
  ErrorMatch match;
  ErrorAction action;
  RuleCondition condition;
  ErrorAction otherwise;  // when the condition does not hold
  RetryBound bound;
  ErrorAction exhausted;  // when the bound is used up
  RetryDelay delay;
  std::uint8_t follow_ups;  // follow_up:: mask
  bool fence_writes;        // a write may be in flight: fence before re-dispatch
  const char* text;         // the row, as the spec names it (for logs)
};

// The decision for one completion.
struct ErrorDecision {
  ErrorAction action = ErrorAction::kComplete;
  RetryDelay delay = RetryDelay::kNone;
  std::uint8_t follow_ups = follow_up::kNone;
  // Fence the old copy before re-dispatch (DESIGN.md "Write fencing" rule 2:
  // later overlapping writes wait for the fence; this request itself may go).
  bool fence_first = false;
  bool bound_exhausted = false;  // the rule's retry bound turned it into `exhausted`
  const ErrorRule* rule = nullptr;  // the matched row; never null from InterpretError

  [[nodiscard]] bool Has(std::uint8_t f) const noexcept { return (follow_ups & f) != 0; }
};

// Every rule, in table order.
std::span<const ErrorRule> ErrorRules() noexcept;

// The most specific rule matching `c`; never null (a catch-all row exists).
const ErrorRule* MatchErrorRule(const Completion& c) noexcept;

// The decision for `c` under `ctx`.
[[nodiscard]] ErrorDecision InterpretError(const Completion& c, const ErrorContext& ctx) noexcept;

// A CHECK CONDITION whose sense bytes scsi::ParseSense decoded. A decode
// failure (empty, short, bad response code) is "empty or short sense".
[[nodiscard]] Completion CheckCondition(const scsi::SenseData& sense) noexcept;
[[nodiscard]] Completion CheckCondition(const scsi::ParseResult<scsi::SenseData>& sense) noexcept;
// InterpretError(CheckCondition(sense), ctx).
[[nodiscard]] ErrorDecision InterpretSense(const scsi::SenseData& sense,
                                           const ErrorContext& ctx) noexcept;

}  // namespace openmpio::dsm
