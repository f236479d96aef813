// The error interpretation table against spec/scsi-alua.md "Sense data that
// matters to a multipath engine": every row of both tables (key/ASC/ASCQ
// values from SPC-4 4.5.6 and annex D), precedence, bounds, deferred errors,
// 25/00 both ways, and the defaults for what no row names.
#include "dsm/error_table.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "hex.h"
#include "scsi/sense.h"

namespace openmpio::dsm {
namespace {

using scsi::ScsiStatus;
using A = ErrorAction;
using D = RetryDelay;
namespace fu = follow_up;

struct Case {
  const char* name;
  Completion c;
  ErrorContext ctx;
  A action;
  D delay;
  std::uint8_t follow_ups;
  bool fence;
};

ErrorContext Ctx() { return ErrorContext{}; }
ErrorContext Retries(std::uint32_t done, std::uint32_t count = 3) {
  ErrorContext c;
  c.retries_done = done;
  c.retry_count = count;
  return c;
}
ErrorContext Write() {
  ErrorContext c;
  c.write_may_be_in_flight = true;
  return c;
}

constexpr std::uint8_t kNR = 0x2, kUA = 0x6, kIR = 0x5;

// One case per spec row (and per default), in the spec's order.
std::vector<Case> Cases() {
  ErrorContext transition_over;
  transition_over.transition_time_exceeded = true;
  ErrorContext other_path;
  other_path.other_path_serves_lu = true;
  ErrorContext fenced = Write();
  fenced.fenced_by_us = true;
  ErrorContext write_exhausted = Write();
  write_exhausted.retries_done = 3;

  return {
      // ---- first table.
      {"NR 04/0A transition", Completion::Check(kNR, 0x04, 0x0A), Ctx(),
       A::kRefreshAluaRedispatch, D::kTransitionPause, fu::kRefreshAlua, false},
      {"NR 04/0A past transition time", Completion::Check(kNR, 0x04, 0x0A), transition_over,
       A::kFailPathRedispatch, D::kNone, fu::kRefreshAlua, false},
      {"NR 04/0A not bounded by RetryCount", Completion::Check(kNR, 0x04, 0x0A), Retries(50),
       A::kRefreshAluaRedispatch, D::kTransitionPause, fu::kRefreshAlua, false},
      {"NR 04/0B standby", Completion::Check(kNR, 0x04, 0x0B), Ctx(), A::kRefreshAluaRedispatch,
       D::kNone, fu::kRefreshAlua, false},
      {"NR 04/0B no retry bound", Completion::Check(kNR, 0x04, 0x0B), Retries(50),
       A::kRefreshAluaRedispatch, D::kNone, fu::kRefreshAlua, false},
      {"NR 04/0C unavailable", Completion::Check(kNR, 0x04, 0x0C), Ctx(),
       A::kRefreshAluaRedispatch, D::kNone, fu::kRefreshAlua, false},
      {"NR 04/12 offline", Completion::Check(kNR, 0x04, 0x12), Ctx(), A::kRefreshAluaRedispatch,
       D::kNone, fu::kRefreshAlua, false},
      {"UA 2A/06 state changed", Completion::Check(kUA, 0x2A, 0x06), Ctx(),
       A::kRefreshAluaRedispatch, D::kNone, fu::kRefreshAlua, false},
      {"UA 2A/06 storm past RetryCount", Completion::Check(kUA, 0x2A, 0x06), Retries(3),
       A::kFailPathRedispatch, D::kNone, fu::kRefreshAlua, false},
      {"UA 2A/07 transition failed", Completion::Check(kUA, 0x2A, 0x07), Ctx(),
       A::kRefreshAluaRedispatch, D::kNone, fu::kRefreshAlua, false},
      {"UA 29/00 power on or reset", Completion::Check(kUA, 0x29, 0x00), Ctx(),
       A::kRefreshAluaRedispatch, D::kNone, fu::kRefreshAlua, false},
      {"UA 29/01 power on", Completion::Check(kUA, 0x29, 0x01), Ctx(), A::kRefreshAluaRedispatch,
       D::kNone, fu::kRefreshAlua, false},
      {"UA 29/02 bus reset", Completion::Check(kUA, 0x29, 0x02), Ctx(), A::kRefreshAluaRedispatch,
       D::kNone, fu::kRefreshAlua, false},
      {"UA 29/07 I_T nexus loss", Completion::Check(kUA, 0x29, 0x07), Ctx(),
       A::kRefreshAluaRedispatch, D::kNone, fu::kRefreshAlua, false},
      {"UA 3F/0E reported luns changed", Completion::Check(kUA, 0x3F, 0x0E), Ctx(),
       A::kRetrySamePath, D::kNone, fu::kRescanLuns, false},
      {"IR 24/00 invalid field in CDB", Completion::Check(kIR, 0x24, 0x00), Write(),
       A::kFailToCaller, D::kNone, fu::kNone, false},
      {"IR 20/00 invalid opcode", Completion::Check(kIR, 0x20, 0x00), Ctx(), A::kFailToCaller,
       D::kNone, fu::kNone, false},
      {"IR 25/00 but no other path", Completion::Check(kIR, 0x25, 0x00), Ctx(), A::kFailToCaller,
       D::kNone, fu::kNone, false},
      {"MEDIUM ERROR 11/00 unrecovered read", Completion::Check(0x3, 0x11, 0x00), Ctx(),
       A::kFailToCaller, D::kNone, fu::kNone, false},
      {"MEDIUM ERROR 0C/00 write error", Completion::Check(0x3, 0x0C, 0x00), Write(),
       A::kFailToCaller, D::kNone, fu::kNone, false},
      {"BUSY", Completion::Scsi(ScsiStatus::kBusy), Ctx(), A::kRetrySamePath, D::kRetryInterval,
       fu::kNone, false},
      {"BUSY past RetryCount", Completion::Scsi(ScsiStatus::kBusy), Retries(3), A::kFailToCaller,
       D::kNone, fu::kNone, false},
      {"TASK SET FULL", Completion::Scsi(ScsiStatus::kTaskSetFull), Retries(2),
       A::kRetrySamePath, D::kRetryInterval, fu::kNone, false},
      {"TASK SET FULL past RetryCount", Completion::Scsi(ScsiStatus::kTaskSetFull), Retries(3),
       A::kFailToCaller, D::kNone, fu::kNone, false},
      {"RESERVATION CONFLICT", Completion::Scsi(ScsiStatus::kReservationConflict), Write(),
       A::kFailToCaller, D::kNone, fu::kNone, false},

      // ---- second table.
      {"RECOVERED ERROR 17/01", Completion::Check(0x1, 0x17, 0x01), Ctx(), A::kComplete,
       D::kNone, fu::kCountRecovered, false},
      {"RECOVERED ERROR 5D/00 failure prediction", Completion::Check(0x1, 0x5D, 0x00), Ctx(),
       A::kComplete, D::kNone, fu::kCountRecovered, false},
      {"ABORTED COMMAND 47/00", Completion::Check(0xB, 0x47, 0x00), Write(), A::kRetrySamePath,
       D::kRetryInterval, fu::kNone, false},
      {"ABORTED COMMAND then another path", Completion::Check(0xB, 0x47, 0x00), write_exhausted,
       A::kFailPathRedispatch, D::kNone, fu::kNone, false},
      {"NR 04/01 becoming ready", Completion::Check(kNR, 0x04, 0x01), Retries(2),
       A::kRetrySamePath, D::kRetryInterval, fu::kNone, false},
      {"NR 04/01 past RetryCount", Completion::Check(kNR, 0x04, 0x01), Retries(3),
       A::kFailPathRedispatch, D::kNone, fu::kNone, false},
      {"UA 2A/09 capacity changed", Completion::Check(kUA, 0x2A, 0x09), Ctx(), A::kRetrySamePath,
       D::kNone, fu::kReReadCapacity, false},
      {"UA 3F/03 inquiry changed", Completion::Check(kUA, 0x3F, 0x03), Ctx(),
       A::kRefreshAluaRedispatch, D::kNone, fu::kRefreshAlua | fu::kReReadIdentity, false},
      {"UA 29/03 after our LU reset", Completion::Check(kUA, 0x29, 0x03), Ctx(),
       A::kRetrySamePath, D::kNone, fu::kNone, false},
      {"DATA PROTECT 27/00", Completion::Check(0x7, 0x27, 0x00), Write(), A::kFailToCaller,
       D::kNone, fu::kNone, false},
      {"IR 25/00 with another path", Completion::Check(kIR, 0x25, 0x00), other_path,
       A::kFailPathRedispatch, D::kNone, fu::kNone, false},
      {"TASK ABORTED we fenced", Completion::Scsi(ScsiStatus::kTaskAborted), fenced,
       A::kFailPathRedispatch, D::kNone, fu::kNone, false},
      {"TASK ABORTED not ours", Completion::Scsi(ScsiStatus::kTaskAborted), Write(),
       A::kRetrySamePath, D::kNone, fu::kNone, false},
      {"TASK ABORTED not ours past RetryCount", Completion::Scsi(ScsiStatus::kTaskAborted),
       Retries(3), A::kFailPathRedispatch, D::kNone, fu::kNone, false},
      {"CHECK CONDITION empty sense", Completion::CheckWithoutSense(), Ctx(), A::kRetrySamePath,
       D::kNone, fu::kNone, false},
      {"CHECK CONDITION empty sense twice", Completion::CheckWithoutSense(), Retries(1),
       A::kFailPathRedispatch, D::kNone, fu::kNone, false},
      {"deferred MEDIUM ERROR 0C/00", Completion::Deferred(0x3, 0x0C, 0x00), Write(),
       A::kDeferredError, D::kNone, fu::kCountDeferred, false},
      {"deferred HARDWARE ERROR", Completion::Deferred(0x4, 0x44, 0x00), Ctx(), A::kDeferredError,
       D::kNone, fu::kCountDeferred, false},
      {"deferred loop past RetryCount", Completion::Deferred(0x3, 0x0C, 0x00), Retries(3),
       A::kFailPathRedispatch, D::kNone, fu::kCountDeferred, false},
      {"deferred RECOVERED ERROR (ours)", Completion::Deferred(0x1, 0x17, 0x01), Ctx(),
       A::kRetrySamePath, D::kNone, fu::kCountRecovered, false},
      {"connection lost, write", Completion::Transport(CompletionKind::kConnectionLost), Write(),
       A::kFailPathRedispatch, D::kNone, fu::kNone, true},
      {"connection lost, read", Completion::Transport(CompletionKind::kConnectionLost), Ctx(),
       A::kFailPathRedispatch, D::kNone, fu::kNone, false},
      {"cancelled, write", Completion::Transport(CompletionKind::kCancelled), Write(),
       A::kFailPathRedispatch, D::kNone, fu::kNone, true},
      {"command timeout, write", Completion::Transport(CompletionKind::kCommandTimeout), Write(),
       A::kFailPathRedispatch, D::kNone, fu::kNone, true},
      {"command timeout, read", Completion::Transport(CompletionKind::kCommandTimeout), Ctx(),
       A::kFailPathRedispatch, D::kNone, fu::kNone, false},
      {"login failure", Completion::Transport(CompletionKind::kLoginFailure), Ctx(),
       A::kFailPathRedispatch, D::kNone, fu::kNone, false},
      {"login failure, write queued", Completion::Transport(CompletionKind::kLoginFailure),
       Write(), A::kFailPathRedispatch, D::kNone, fu::kNone, true},

      // ---- defaults ([C], error_table.cpp says why).
      {"GOOD", Completion::Scsi(ScsiStatus::kGood), Ctx(), A::kComplete, D::kNone, fu::kNone,
       false},
      {"CONDITION MET", Completion::Scsi(ScsiStatus::kConditionMet), Ctx(), A::kComplete,
       D::kNone, fu::kNone, false},
      {"ACA ACTIVE", Completion::Scsi(ScsiStatus::kAcaActive), Ctx(), A::kRetrySamePath,
       D::kRetryInterval, fu::kNone, false},
      {"NO SENSE", Completion::Check(0x0, 0x00, 0x00), Ctx(), A::kRetrySamePath,
       D::kRetryInterval, fu::kNone, false},
      {"NR 3A/00 medium not present", Completion::Check(kNR, 0x3A, 0x00), Write(),
       A::kFailPathRedispatch, D::kNone, fu::kNone, false},
      {"HARDWARE ERROR 44/00", Completion::Check(0x4, 0x44, 0x00), Ctx(), A::kRetrySamePath,
       D::kRetryInterval, fu::kNone, false},
      {"HARDWARE ERROR past RetryCount", Completion::Check(0x4, 0x44, 0x00), Retries(3),
       A::kFailToCaller, D::kNone, fu::kNone, false},
      {"UA 3F/01 microcode changed", Completion::Check(kUA, 0x3F, 0x01), Ctx(), A::kRetrySamePath,
       D::kNone, fu::kNone, false},
      {"VOLUME OVERFLOW", Completion::Check(0xD, 0x00, 0x02), Ctx(), A::kFailToCaller, D::kNone,
       fu::kNone, false},
      {"MISCOMPARE 1D/00", Completion::Check(0xE, 0x1D, 0x00), Write(), A::kFailToCaller,
       D::kNone, fu::kNone, false},
      {"BLANK CHECK (unclassified key)", Completion::Check(0x8, 0x00, 0x05), Ctx(),
       A::kRetrySamePath, D::kRetryInterval, fu::kNone, false},
      {"key 0xF unclassified past RetryCount", Completion::Check(0xF, 0x00, 0x00), Retries(3),
       A::kFailToCaller, D::kNone, fu::kNone, false},
      {"status 0x22 (obsolete)", Completion::Scsi(static_cast<ScsiStatus>(0x22)), Ctx(),
       A::kRetrySamePath, D::kRetryInterval, fu::kNone, false},
  };
}

TEST(ErrorTable, EveryRowOfBothSpecTables) {
  for (const Case& k : Cases()) {
    SCOPED_TRACE(k.name);
    const ErrorDecision d = InterpretError(k.c, k.ctx);
    ASSERT_NE(d.rule, nullptr);
    EXPECT_EQ(d.action, k.action) << ErrorActionName(d.action) << " via " << d.rule->text;
    EXPECT_EQ(d.delay, k.delay);
    EXPECT_EQ(d.follow_ups, k.follow_ups);
    EXPECT_EQ(d.fence_first, k.fence);
  }
}

// Each row of the table is reached by at least one case above: no dead rows.
TEST(ErrorTable, EveryRuleIsExercised) {
  std::set<const ErrorRule*> hit;
  for (const Case& k : Cases()) hit.insert(MatchErrorRule(k.c));
  for (const ErrorRule& r : ErrorRules()) {
    EXPECT_TRUE(hit.count(&r) == 1) << "no case for row: " << r.text;
  }
}

TEST(ErrorTable, SpecificBeatsGeneral) {
  // key + ASC + ASCQ over key + ASC over key alone.
  EXPECT_STREQ(MatchErrorRule(Completion::Check(kUA, 0x29, 0x03))->text,
               "UNIT ATTENTION 29/03: after our own LOGICAL UNIT RESET");
  EXPECT_EQ(MatchErrorRule(Completion::Check(kUA, 0x29, 0x04))->match.ascq, kAny);
  EXPECT_EQ(MatchErrorRule(Completion::Check(kUA, 0x29, 0x04))->match.asc, 0x29);
  EXPECT_EQ(MatchErrorRule(Completion::Check(kUA, 0x28, 0x00))->match.asc, kAny);
  // 25/00 is the one ILLEGAL REQUEST that may fail over.
  ErrorContext other;
  other.other_path_serves_lu = true;
  EXPECT_EQ(InterpretError(Completion::Check(kIR, 0x25, 0x00), other).action,
            A::kFailPathRedispatch);
  EXPECT_EQ(InterpretError(Completion::Check(kIR, 0x25, 0x01), other).action, A::kFailToCaller);
  EXPECT_EQ(InterpretError(Completion::Check(kIR, 0x24, 0x00), other).action, A::kFailToCaller);
  // 04/0A over NOT READY alone; a neighbour ASCQ is not an ALUA code.
  EXPECT_EQ(InterpretError(Completion::Check(kNR, 0x04, 0x0A), Ctx()).action,
            A::kRefreshAluaRedispatch);
  EXPECT_EQ(InterpretError(Completion::Check(kNR, 0x04, 0x0D), Ctx()).action,
            A::kFailPathRedispatch);
  // A sense key row beats the CHECK CONDITION default.
  EXPECT_EQ(InterpretError(Completion::Check(0x3, 0x00, 0x00), Ctx()).action, A::kFailToCaller);
}

// Two rows of equal specificity must never match the same completion, or the
// table order would decide silently: they must differ in a field both name.
TEST(ErrorTable, NoTwoRowsTie) {
  auto spec = [](const ErrorMatch& m) {
    int s = 0;
    for (std::int16_t f : {m.status, m.key, m.asc, m.ascq}) s += f != kAny ? 1 : 0;
    return s;
  };
  auto disjoint = [](const ErrorMatch& a, const ErrorMatch& b) {
    if (a.kind != b.kind) return true;
    if (a.kind != CompletionKind::kScsi) return false;
    auto differ = [](std::int16_t x, std::int16_t y) { return x != kAny && y != kAny && x != y; };
    if (differ(a.status, b.status)) return true;
    const std::int16_t cc = static_cast<std::int16_t>(ScsiStatus::kCheckCondition);
    if (a.status == cc && b.status == cc && a.sense != b.sense) return true;
    return differ(a.key, b.key) || differ(a.asc, b.asc) || differ(a.ascq, b.ascq);
  };
  const auto rules = ErrorRules();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    for (std::size_t j = i + 1; j < rules.size(); ++j) {
      if (spec(rules[i].match) != spec(rules[j].match)) continue;
      EXPECT_TRUE(disjoint(rules[i].match, rules[j].match))
          << rules[i].text << " ties with " << rules[j].text;
    }
  }
}

// Deferred errors (0x71/0x73) belong to an earlier command: whatever their key
// and ASC say, they never fail, complete or fail over the current command, and
// never trigger the current-error rows (no ALUA refresh for a deferred 2A/06).
TEST(ErrorTable, DeferredNeverAttributedToCurrentCommand) {
  for (std::uint8_t key = 0; key < 16; ++key) {
    if (key == 0x1) continue;  // deferred RECOVERED ERROR: retried, counted, no flush error
    for (auto [asc, ascq] : {std::pair<std::uint8_t, std::uint8_t>{0x0C, 0x00},
                             {0x04, 0x0A},
                             {0x2A, 0x06},
                             {0x25, 0x00},
                             {0x11, 0x00}}) {
      const ErrorDecision d = InterpretError(Completion::Deferred(key, asc, ascq), Write());
      EXPECT_EQ(d.action, A::kDeferredError) << int{key} << " " << int{asc} << "/" << int{ascq};
      EXPECT_TRUE(d.Has(fu::kCountDeferred));
      EXPECT_FALSE(d.Has(fu::kRefreshAlua));
      EXPECT_FALSE(d.fence_first);
    }
  }
  const ErrorDecision r = InterpretError(Completion::Deferred(0x1, 0x17, 0x01), Ctx());
  EXPECT_EQ(r.action, A::kRetrySamePath);
  EXPECT_FALSE(r.Has(fu::kCountDeferred));
}

TEST(ErrorTable, RetryCountZeroMeansNoRetry) {
  EXPECT_EQ(InterpretError(Completion::Scsi(ScsiStatus::kBusy), Retries(0, 0)).action,
            A::kFailToCaller);
  EXPECT_TRUE(InterpretError(Completion::Scsi(ScsiStatus::kBusy), Retries(0, 0)).bound_exhausted);
  EXPECT_EQ(InterpretError(Completion::Scsi(ScsiStatus::kBusy), Retries(499, 500)).action,
            A::kRetrySamePath);
  EXPECT_EQ(InterpretError(Completion::Scsi(ScsiStatus::kBusy), Retries(500, 500)).action,
            A::kFailToCaller);
}

// Only path failures after a transport outcome fence; an answered command was
// not in flight any more (25/00, exhausted ABORTED COMMAND) and TASK ABORTED
// after our own abort is the fence itself.
TEST(ErrorTable, FenceOnlyForUnansweredWrites) {
  for (const ErrorRule& r : ErrorRules()) {
    if (r.match.kind == CompletionKind::kScsi) {
      EXPECT_FALSE(r.fence_writes) << r.text;
    } else {
      EXPECT_TRUE(r.fence_writes) << r.text;
      EXPECT_EQ(r.action, A::kFailPathRedispatch) << r.text;
    }
  }
}

// Through the sense decoder: hand-worked sense bytes.
TEST(ErrorTable, FromDecodedSense) {
  // Fixed format, current (SPC-4 4.5.3): byte 0 0x70, byte 2 key 2, byte 7
  // additional length 10, byte 12 ASC 04, byte 13 ASCQ 0A.
  const auto fixed = testing::Hex("70 00 02 00 00 00 00 0a 00 00 00 00 04 0a 00 00 00 00");
  const auto parsed = scsi::ParseSense(fixed);
  ASSERT_TRUE(parsed.has_value());
  const Completion c = CheckCondition(parsed);
  EXPECT_EQ(c.sense, SenseKind::kCurrent);
  EXPECT_EQ(InterpretSense(parsed.value(), Ctx()).action, A::kRefreshAluaRedispatch);

  // Descriptor format, deferred (SPC-4 4.5.2): byte 0 0x73, byte 1 key 3,
  // bytes 2..3 ASC/ASCQ 0C/00 (write error), additional length 0.
  const auto desc = testing::Hex("73 03 0c 00 00 00 00 00");
  const auto deferred = scsi::ParseSense(desc);
  ASSERT_TRUE(deferred.has_value());
  EXPECT_EQ(CheckCondition(deferred).sense, SenseKind::kDeferred);
  EXPECT_EQ(InterpretError(CheckCondition(deferred), Write()).action, A::kDeferredError);

  // Three bytes: short sense, "CHECK CONDITION with empty or short sense".
  const auto shorty = testing::Hex("70 00 06");
  EXPECT_EQ(CheckCondition(scsi::ParseSense(shorty)).sense, SenseKind::kAbsent);
  const std::vector<std::byte> empty;
  EXPECT_EQ(InterpretError(CheckCondition(scsi::ParseSense(empty)), Ctx()).action,
            A::kRetrySamePath);
}

// Any completion finds exactly one best row, and the decision is consistent.
RC_GTEST_PROP(ErrorTable, AnyCompletionHasOneDecision,
              (std::uint8_t kind, std::uint8_t status, std::uint8_t sense, std::uint8_t key,
               std::uint8_t asc, std::uint8_t ascq, bool write, bool other, bool fenced,
               std::uint16_t done, std::uint16_t count)) {
  Completion c;
  c.kind = static_cast<CompletionKind>(kind % 5);
  c.status = static_cast<ScsiStatus>(status);
  c.sense = static_cast<SenseKind>(sense % 3);
  c.key = static_cast<std::uint8_t>(key % 16);
  c.asc = asc;
  c.ascq = ascq;
  ErrorContext ctx;
  ctx.write_may_be_in_flight = write;
  ctx.other_path_serves_lu = other;
  ctx.fenced_by_us = fenced;
  ctx.retries_done = done;
  ctx.retry_count = count % 501U;
  const ErrorDecision d = InterpretError(c, ctx);
  RC_ASSERT(d.rule != nullptr);
  RC_ASSERT(!d.fence_first || (write && d.action == A::kFailPathRedispatch));
  if (d.action != A::kRetrySamePath && d.action != A::kRefreshAluaRedispatch &&
      d.action != A::kDeferredError) {
    RC_ASSERT(d.delay == D::kNone);
  }
  if (c.kind != CompletionKind::kScsi) RC_ASSERT(d.action == A::kFailPathRedispatch);
}

}  // namespace
}  // namespace openmpio::dsm
