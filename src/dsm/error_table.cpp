// The error interpretation table: spec/scsi-alua.md "Sense data that matters
// to a multipath engine" (both tables, one row each) plus our defaults.
#include "dsm/error_table.h"

#include <array>

namespace openmpio::dsm {
namespace {

using scsi::ScsiStatus;
using A = ErrorAction;
using B = RetryBound;
using D = RetryDelay;
using K = CompletionKind;
using C = RuleCondition;

// Sense keys (SPC-4 4.5.6, table 27).
constexpr std::int16_t kNoSense = 0x0;
constexpr std::int16_t kRecoveredError = 0x1;
constexpr std::int16_t kNotReady = 0x2;
constexpr std::int16_t kMediumError = 0x3;
constexpr std::int16_t kHardwareError = 0x4;
constexpr std::int16_t kIllegalRequest = 0x5;
constexpr std::int16_t kUnitAttention = 0x6;
constexpr std::int16_t kDataProtect = 0x7;
constexpr std::int16_t kAbortedCommand = 0xB;
constexpr std::int16_t kVolumeOverflow = 0xD;
constexpr std::int16_t kMiscompare = 0xE;

constexpr std::int16_t St(ScsiStatus s) { return static_cast<std::int16_t>(s); }
constexpr std::int16_t kCc = St(ScsiStatus::kCheckCondition);

// Match builders, so each row reads as the spec writes it.
constexpr ErrorMatch Transport(K k) { return ErrorMatch{k, kAny, SenseKind::kCurrent}; }
constexpr ErrorMatch StatusIs(ScsiStatus s) { return ErrorMatch{K::kScsi, St(s)}; }
constexpr ErrorMatch Key(std::int16_t key) {
  return ErrorMatch{K::kScsi, kCc, SenseKind::kCurrent, key};
}
constexpr ErrorMatch KeyAsc(std::int16_t key, std::int16_t asc) {
  return ErrorMatch{K::kScsi, kCc, SenseKind::kCurrent, key, asc};
}
constexpr ErrorMatch KeyAscq(std::int16_t key, std::int16_t asc, std::int16_t ascq) {
  return ErrorMatch{K::kScsi, kCc, SenseKind::kCurrent, key, asc, ascq};
}
constexpr ErrorMatch CheckWith(SenseKind s) { return ErrorMatch{K::kScsi, kCc, s}; }
constexpr ErrorMatch DeferredKey(std::int16_t key) {
  return ErrorMatch{K::kScsi, kCc, SenseKind::kDeferred, key};
}

namespace fu = follow_up;

// Rule builders for the common shapes.
constexpr ErrorRule Final(ErrorMatch m, ErrorAction a, std::uint8_t f, const char* text) {
  return ErrorRule{m, a, C::kNone, a, B::kNone, a, D::kNone, f, false, text};
}
constexpr ErrorRule Retry(ErrorMatch m, ErrorAction a, D delay, B bound, ErrorAction exhausted,
                          std::uint8_t f, const char* text) {
  return ErrorRule{m, a, C::kNone, a, bound, exhausted, delay, f, false, text};
}
constexpr ErrorRule PathDown(ErrorMatch m, const char* text) {
  return ErrorRule{m,       A::kFailPathRedispatch, C::kNone, A::kFailPathRedispatch, B::kNone,
                   A::kFailPathRedispatch, D::kNone, fu::kNone, true, text};
}

// clang-format off
constexpr std::array kRules = {
  // --- transport outcomes: they fail the path, not the request (spec/scsi-alua.md, last rows).
  // A write that may be in flight is fenced first (DESIGN.md "Write fencing"). A login
  // failure fences too: commands queued for a reconnect may have left on the old connection;
  // the engine passes write_may_be_in_flight=false when it knows they never left.
  PathDown(Transport(K::kConnectionLost), "transport: connection lost"),
  PathDown(Transport(K::kCancelled), "transport: cancelled"),
  PathDown(Transport(K::kCommandTimeout), "transport: command timeout"),
  PathDown(Transport(K::kLoginFailure), "transport: login failure"),

  // --- SCSI status alone (SAM-5 5.3).
  Final(StatusIs(ScsiStatus::kGood), A::kComplete, fu::kNone, "GOOD"),
  Final(StatusIs(ScsiStatus::kConditionMet), A::kComplete, fu::kNone, "CONDITION MET"),
  Retry(StatusIs(ScsiStatus::kBusy), A::kRetrySamePath, D::kRetryInterval, B::kRetryCount,
        A::kFailToCaller, fu::kNone, "status BUSY: target congestion"),
  Retry(StatusIs(ScsiStatus::kTaskSetFull), A::kRetrySamePath, D::kRetryInterval, B::kRetryCount,
        A::kFailToCaller, fu::kNone, "status TASK SET FULL: target congestion"),
  Final(StatusIs(ScsiStatus::kReservationConflict), A::kFailToCaller, fu::kNone,
        "status RESERVATION CONFLICT: persistent reservations"),
  // [C] we never set NACA, so an ACA is another nexus's: wait like BUSY.
  Retry(StatusIs(ScsiStatus::kAcaActive), A::kRetrySamePath, D::kRetryInterval, B::kRetryCount,
        A::kFailToCaller, fu::kNone, "status ACA ACTIVE: another nexus's ACA"),
  ErrorRule{StatusIs(ScsiStatus::kTaskAborted), A::kFailPathRedispatch, C::kFencedByUs,
            A::kRetrySamePath, B::kRetryCount, A::kFailPathRedispatch, D::kNone, fu::kNone,
            false, "status TASK ABORTED: re-dispatch if we fenced it, else retry"},

  // --- CHECK CONDITION without usable sense.
  Retry(CheckWith(SenseKind::kAbsent), A::kRetrySamePath, D::kNone, B::kOnce,
        A::kFailPathRedispatch, fu::kNone, "CHECK CONDITION with empty or short sense"),

  // --- deferred errors (0x71/0x73, SPC-4 4.5.5): never the current command's. The
  // current command was not performed, so it is re-issued; the error is kept for the
  // disk's next SYNCHRONIZE CACHE.
  Retry(CheckWith(SenseKind::kDeferred), A::kDeferredError, D::kNone, B::kRetryCount,
        A::kFailPathRedispatch, fu::kCountDeferred,
        "deferred error: belongs to an earlier command"),
  // [C] a deferred RECOVERED ERROR reports an earlier command that succeeded: failing the
  // next flush for it would report a loss that did not happen.
  Retry(DeferredKey(kRecoveredError), A::kRetrySamePath, D::kNone, B::kRetryCount,
        A::kFailPathRedispatch, fu::kCountRecovered, "deferred RECOVERED ERROR"),

  // --- current sense, by key (SPC-4 4.5.6) and ASC/ASCQ (SPC-4 Annex D).
  // [C] NO SENSE under CHECK CONDITION says nothing: retry, bounded, then fail.
  Retry(Key(kNoSense), A::kRetrySamePath, D::kRetryInterval, B::kRetryCount, A::kFailToCaller,
        fu::kNone, "NO SENSE"),
  Final(Key(kRecoveredError), A::kComplete, fu::kCountRecovered,
        "RECOVERED ERROR: the command succeeded"),

  // [C] NOT READY for a reason not listed: another path may be ready; if the LU itself is
  // not ready every path fails and the no-path time bounds the wait.
  Final(Key(kNotReady), A::kFailPathRedispatch, fu::kNone, "NOT READY"),
  Retry(KeyAscq(kNotReady, 0x04, 0x01), A::kRetrySamePath, D::kRetryInterval, B::kRetryCount,
        A::kFailPathRedispatch, fu::kNone, "NOT READY 04/01: becoming ready"),
  Retry(KeyAscq(kNotReady, 0x04, 0x0A), A::kRefreshAluaRedispatch, D::kTransitionPause,
        B::kTransitionTime, A::kFailPathRedispatch, fu::kRefreshAlua,
        "NOT READY 04/0A: asymmetric access state transition"),
  Final(KeyAscq(kNotReady, 0x04, 0x0B), A::kRefreshAluaRedispatch, fu::kRefreshAlua,
        "NOT READY 04/0B: target port in standby"),
  Final(KeyAscq(kNotReady, 0x04, 0x0C), A::kRefreshAluaRedispatch, fu::kRefreshAlua,
        "NOT READY 04/0C: target port in unavailable state"),
  Final(KeyAscq(kNotReady, 0x04, 0x12), A::kRefreshAluaRedispatch, fu::kRefreshAlua,
        "NOT READY 04/12: logical unit offline"),

  Final(Key(kMediumError), A::kFailToCaller, fu::kNone, "MEDIUM ERROR"),
  // [C] HARDWARE ERROR: retry, bounded, then fail to the caller. Failing the path instead
  // (dm-multipath's choice) would, for an LU-level fault, fail every path in turn.
  Retry(Key(kHardwareError), A::kRetrySamePath, D::kRetryInterval, B::kRetryCount,
        A::kFailToCaller, fu::kNone, "HARDWARE ERROR"),

  Final(Key(kIllegalRequest), A::kFailToCaller, fu::kNone,
        "ILLEGAL REQUEST: bad command or field"),
  ErrorRule{KeyAscq(kIllegalRequest, 0x25, 0x00), A::kFailPathRedispatch,
            C::kOtherPathServesLu, A::kFailToCaller, B::kNone, A::kFailPathRedispatch, D::kNone,
            fu::kNone, false, "ILLEGAL REQUEST 25/00: LU not supported on this port"},

  // [C] a unit attention not listed: it is cleared by being reported, retry at once; a
  // path that keeps raising them past RetryCount is failed.
  Retry(Key(kUnitAttention), A::kRetrySamePath, D::kNone, B::kRetryCount,
        A::kFailPathRedispatch, fu::kNone, "UNIT ATTENTION"),
  Retry(KeyAsc(kUnitAttention, 0x29), A::kRefreshAluaRedispatch, D::kNone, B::kRetryCount,
        A::kFailPathRedispatch, fu::kRefreshAlua,
        "UNIT ATTENTION 29/xx: power on, reset (may hide a pending 2A/06)"),
  Retry(KeyAscq(kUnitAttention, 0x29, 0x03), A::kRetrySamePath, D::kNone, B::kRetryCount,
        A::kFailPathRedispatch, fu::kNone,
        "UNIT ATTENTION 29/03: after our own LOGICAL UNIT RESET"),
  Retry(KeyAscq(kUnitAttention, 0x2A, 0x06), A::kRefreshAluaRedispatch, D::kNone,
        B::kRetryCount, A::kFailPathRedispatch, fu::kRefreshAlua,
        "UNIT ATTENTION 2A/06: asymmetric access state changed"),
  Retry(KeyAscq(kUnitAttention, 0x2A, 0x07), A::kRefreshAluaRedispatch, D::kNone,
        B::kRetryCount, A::kFailPathRedispatch, fu::kRefreshAlua,
        "UNIT ATTENTION 2A/07: implicit asymmetric access state transition failed"),
  Retry(KeyAscq(kUnitAttention, 0x2A, 0x09), A::kRetrySamePath, D::kNone, B::kRetryCount,
        A::kFailPathRedispatch, fu::kReReadCapacity, "UNIT ATTENTION 2A/09: capacity data changed"),
  Retry(KeyAscq(kUnitAttention, 0x3F, 0x03), A::kRefreshAluaRedispatch, D::kNone,
        B::kRetryCount, A::kFailPathRedispatch, fu::kRefreshAlua | fu::kReReadIdentity,
        "UNIT ATTENTION 3F/03: inquiry data changed"),
  Retry(KeyAscq(kUnitAttention, 0x3F, 0x0E), A::kRetrySamePath, D::kNone, B::kRetryCount,
        A::kFailPathRedispatch, fu::kRescanLuns, "UNIT ATTENTION 3F/0E: reported LUNs data changed"),

  Final(Key(kDataProtect), A::kFailToCaller, fu::kNone, "DATA PROTECT: write protected"),
  Retry(Key(kAbortedCommand), A::kRetrySamePath, D::kRetryInterval, B::kRetryCount,
        A::kFailPathRedispatch, fu::kNone, "ABORTED COMMAND: target aborted it"),
  // [C] definitive answers about the data, not the path.
  Final(Key(kVolumeOverflow), A::kFailToCaller, fu::kNone, "VOLUME OVERFLOW"),
  Final(Key(kMiscompare), A::kFailToCaller, fu::kNone, "MISCOMPARE"),

  // --- defaults for what no row names.
  // [C] a CHECK CONDITION with a key we do not classify (BLANK CHECK, VENDOR SPECIFIC,
  // COPY ABORTED, reserved) came from a live target, so the path works and a failover is
  // no more likely to help: retry with back-off, then fail to the caller.
  Retry(CheckWith(SenseKind::kCurrent), A::kRetrySamePath, D::kRetryInterval, B::kRetryCount,
        A::kFailToCaller, fu::kNone, "CHECK CONDITION: unclassified sense key"),
  // [C] a status byte SAM-5 reserves or made obsolete: the same reasoning.
  Retry(ErrorMatch{K::kScsi, kAny}, A::kRetrySamePath, D::kRetryInterval, B::kRetryCount,
        A::kFailToCaller, fu::kNone, "unclassified SCSI status"),
};
// clang-format on

// How specific a match is: each named field counts one. Rows that tie never
// match the same completion (error_table_test checks it).
int Specificity(const ErrorMatch& m) {
  int s = 0;
  for (std::int16_t f : {m.status, m.key, m.asc, m.ascq}) {
    if (f != kAny) ++s;
  }
  return s;
}

bool Field(std::int16_t want, std::uint8_t have) { return want == kAny || want == have; }

bool Matches(const ErrorMatch& m, const Completion& c) {
  if (m.kind != c.kind) return false;
  if (c.kind != K::kScsi) return true;
  if (!Field(m.status, static_cast<std::uint8_t>(c.status))) return false;
  if (m.status != kCc) return true;
  if (m.sense != c.sense) return false;
  if (c.sense == SenseKind::kAbsent) return true;
  return Field(m.key, c.key) && Field(m.asc, c.asc) && Field(m.ascq, c.ascq);
}

bool IsRetry(ErrorAction a) {
  return a == A::kRetrySamePath || a == A::kRefreshAluaRedispatch || a == A::kDeferredError;
}

bool Exhausted(RetryBound b, const ErrorContext& ctx) {
  switch (b) {
    case B::kNone:
      return false;
    case B::kRetryCount:
      return ctx.retries_done >= ctx.retry_count;
    case B::kOnce:
      return ctx.retries_done >= 1;
    case B::kTransitionTime:
      return ctx.transition_time_exceeded;
  }
  return false;
}

bool ConditionHolds(RuleCondition cond, const ErrorContext& ctx) {
  switch (cond) {
    case C::kNone:
      return true;
    case C::kOtherPathServesLu:
      return ctx.other_path_serves_lu;
    case C::kFencedByUs:
      return ctx.fenced_by_us;
  }
  return true;
}

}  // namespace

const char* ErrorActionName(ErrorAction a) noexcept {
  switch (a) {
    case A::kComplete:
      return "complete";
    case A::kRetrySamePath:
      return "retry same path";
    case A::kRefreshAluaRedispatch:
      return "refresh ALUA, re-dispatch";
    case A::kFailPathRedispatch:
      return "fail path, re-dispatch";
    case A::kFailToCaller:
      return "fail to caller";
    case A::kDeferredError:
      return "deferred error";
  }
  return "?";
}

std::span<const ErrorRule> ErrorRules() noexcept { return kRules; }

const ErrorRule* MatchErrorRule(const Completion& c) noexcept {
  const ErrorRule* best = nullptr;
  int best_score = -1;
  for (const ErrorRule& r : kRules) {
    if (!Matches(r.match, c)) continue;
    const int score = Specificity(r.match);
    if (score > best_score) {
      best = &r;
      best_score = score;
    }
  }
  return best;  // the last two rows catch every kScsi completion, the first four the rest
}

ErrorDecision InterpretError(const Completion& c, const ErrorContext& ctx) noexcept {
  const ErrorRule* rule = MatchErrorRule(c);
  ErrorDecision d;
  d.rule = rule;
  d.follow_ups = rule->follow_ups;
  d.action = ConditionHolds(rule->condition, ctx) ? rule->action : rule->otherwise;
  d.delay = rule->delay;
  if (IsRetry(d.action) && Exhausted(rule->bound, ctx)) {
    d.action = rule->exhausted;
    d.delay = D::kNone;
    d.bound_exhausted = true;
  }
  if (!IsRetry(d.action)) d.delay = D::kNone;
  d.fence_first = rule->fence_writes && ctx.write_may_be_in_flight &&
                  d.action == A::kFailPathRedispatch;
  return d;
}

Completion CheckCondition(const scsi::SenseData& sense) noexcept {
  return Completion{K::kScsi, ScsiStatus::kCheckCondition,
                    sense.current ? SenseKind::kCurrent : SenseKind::kDeferred,
                    static_cast<std::uint8_t>(sense.key), sense.asc, sense.ascq};
}

Completion CheckCondition(const scsi::ParseResult<scsi::SenseData>& sense) noexcept {
  if (!sense.has_value()) return Completion::CheckWithoutSense();
  return CheckCondition(sense.value());
}

ErrorDecision InterpretSense(const scsi::SenseData& sense, const ErrorContext& ctx) noexcept {
  return InterpretError(CheckCondition(sense), ctx);
}

}  // namespace openmpio::dsm
