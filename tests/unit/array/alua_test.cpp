// ALUA as the array enforces it: what each state allows (spec/scsi-alua.md
// "What each state allows", SPC-4 5.15.2.4), RTPG per LU in both formats
// (SPC-4 6.36), STPG (SPC-4 6.44), unit attentions (SAM-5 5.14), implicit
// transitions through Transitioning. Sense bytes are hand-typed hex.
#include <gtest/gtest.h>

#include "array_fixture.h"

namespace openmpio::array::testing {
namespace {

using S = AsymmetricAccessState;

// Demo shape: ports 1,2 in group 1; ports 3,4 in group 2. LU 0 A/O on group
// 1; LU 1 A/O on group 2.

struct StateCase {
  S state;
  const char* media_sense;  // what media access gets
  bool mode_sense_allowed;
};

class EnforcementTest : public ArrayTest, public ::testing::WithParamInterface<StateCase> {};

TEST_P(EnforcementTest, MediaRefusedManagementAnswers) {
  const StateCase& c = GetParam();
  const ItNexusId n = Login(3);  // group 2 (A/N for LU 0)
  ASSERT_TRUE(array_->SetAccessState(0, 2, c.state, now_).ok());
  ASSERT_EQ(Send(n, 0, kRequestSense).Data().substr(0, 2), "70");  // takes 2A/06

  // Media access: the NOT READY sense of the state, exactly.
  for (const char* cdb : {kTur, kRead1, kReadCapacity, kSyncCache}) {
    SCOPED_TRACE(cdb);
    const Reply r = Send(n, 0, cdb);
    EXPECT_EQ(r.response.status, scsi::ScsiStatus::kCheckCondition);
    EXPECT_EQ(r.Sense(), c.media_sense);
  }
  std::vector<std::byte> block(512, std::byte{0x5A});
  EXPECT_EQ(Send(n, 0, kWrite1, block).Sense(), c.media_sense);
  EXPECT_EQ(Send(n, 0, kWriteSameUnmap1, block).Sense(), c.media_sense);
  EXPECT_EQ(Send(n, 0, kUnmap24, Hex("00 16 00 10 00000000 00000000 00000000 00000001 00000000"))
                .Sense(),
            c.media_sense);
  // MODE SENSE: Standby only (SPC-4 5.15.2.4.4).
  const Reply ms = Send(n, 0, kModeSenseCaching);
  if (c.mode_sense_allowed) {
    EXPECT_TRUE(ms.Good()) << ms.Sense();
  } else {
    EXPECT_EQ(ms.Sense(), c.media_sense);
  }
  // Management commands keep answering.
  for (const char* cdb : {kInquiry, kVpd83, kReportLuns, kRtpgExtended}) {
    SCOPED_TRACE(cdb);
    EXPECT_TRUE(Send(n, 0, cdb).Good());
  }
  // REQUEST SENSE answers GOOD with the NOT READY sense as data (SPC-4 6.29).
  const Reply rs = Send(n, 0, kRequestSense);
  EXPECT_TRUE(rs.Good());
  EXPECT_EQ(rs.Data(), c.media_sense);
  // The other group still serves.
  const ItNexusId a = Login(1);
  EXPECT_TRUE(Send(a, 0, kRead1).Good());
}

INSTANTIATE_TEST_SUITE_P(
    States, EnforcementTest,
    ::testing::Values(
        StateCase{S::kStandby, "70 00 02 00 00 00 00 0a 00 00 00 00 04 0b 00 00 00 00", true},
        StateCase{S::kUnavailable, "70 00 02 00 00 00 00 0a 00 00 00 00 04 0c 00 00 00 00", false},
        StateCase{S::kOffline, "70 00 02 00 00 00 00 0a 00 00 00 00 04 12 00 00 00 00", false}),
    [](const ::testing::TestParamInfo<StateCase>& p) {
      switch (p.param.state) {
        case S::kStandby: return std::string("Standby");
        case S::kUnavailable: return std::string("Unavailable");
        default: return std::string("Offline");
      }
    });

TEST_F(ArrayTest, ActiveNonOptimizedServesEverything) {
  const ItNexusId n = Login(3);  // A/N for LU 0
  EXPECT_TRUE(Send(n, 0, kTur).Good());
  EXPECT_TRUE(Send(n, 0, kRead1).Good());
  EXPECT_TRUE(Send(n, 0, kWrite1, std::vector<std::byte>(512)).Good());
}

TEST_F(ArrayTest, ImplicitTransitionPassesThroughTransitioning) {
  const ItNexusId n = Login(1);
  ASSERT_TRUE(array_->SetAccessState(0, 1, S::kStandby, now_, /*implicit_transition=*/true).ok());
  // 2A/06 first (entering Transitioning), then 04/0A for media access.
  EXPECT_EQ(Send(n, 0, kRead1).Sense(), "70 00 06 00 00 00 00 0a 00 00 00 00 2a 06 00 00 00 00");
  EXPECT_EQ(Send(n, 0, kRead1).Sense(), "70 00 02 00 00 00 00 0a 00 00 00 00 04 0a 00 00 00 00");
  EXPECT_EQ(Send(n, 0, kTur).Sense(), "70 00 02 00 00 00 00 0a 00 00 00 00 04 0a 00 00 00 00");
  EXPECT_EQ(Send(n, 0, kModeSenseCaching).Sense(),
            "70 00 02 00 00 00 00 0a 00 00 00 00 04 0a 00 00 00 00");
  EXPECT_TRUE(Send(n, 0, kRtpgExtended).Good());
  // RTPG during the transition: group 1 Transitioning (0x0F).
  EXPECT_EQ(Send(n, 0, kRtpgExtended).data.at(8), std::byte{0x8F});
  now_ += std::chrono::milliseconds(1999);
  EXPECT_EQ(Send(n, 0, kRead1).Sense(), "70 00 02 00 00 00 00 0a 00 00 00 00 04 0a 00 00 00 00");
  now_ += std::chrono::milliseconds(1);  // the implicit transition time (2 s) is over
  EXPECT_EQ(Send(n, 0, kRead1).Sense(), "70 00 06 00 00 00 00 0a 00 00 00 00 2a 06 00 00 00 00");
  EXPECT_EQ(Send(n, 0, kRead1).Sense(), "70 00 02 00 00 00 00 0a 00 00 00 00 04 0b 00 00 00 00");
  // Status code 2: altered by implicit behaviour.
  const Reply r = Send(n, 0, kRtpgExtended);
  EXPECT_EQ(ToHex(std::span<const std::byte>(r.data).subspan(8, 8)), "82 cf 00 01 00 02 00 02");
}

// SPC-4 6.36, hand-worked for the demo shape: supported AO|AN|S|U|O (4Fh)
// plus T_SUP (80h, implicit TPGS) = CFh; PREF on the owning group; two ports
// per group.
TEST_F(ArrayTest, RtpgExtendedFormatHandWorked) {
  const ItNexusId n = Login(1);
  const Reply r = Send(n, 0, kRtpgExtended);
  ASSERT_TRUE(r.Good());
  // RETURN DATA LENGTH 36 = 4 (rest of the extended header) + 2 x 16.
  // Byte 4: FORMAT TYPE 001b in bits 6..4; byte 5: implicit transition time 2 s.
  EXPECT_EQ(r.Data(),
            "00 00 00 24 10 02 00 00 "
            "80 cf 00 01 00 00 00 02 00 00 00 01 00 00 00 02 "
            "01 cf 00 02 00 00 00 02 00 00 00 03 00 00 00 04");
}

TEST_F(ArrayTest, RtpgLengthOnlyFormatIsPerLu) {
  const ItNexusId n = Login(4);
  // LU 1 is owned by group 2: A/N + no PREF on group 1, A/O + PREF on group 2.
  const Reply r = Send(n, 1, kRtpgLengthOnly);
  ASSERT_TRUE(r.Good());
  EXPECT_EQ(r.Data(),
            "00 00 00 20 "
            "01 cf 00 01 00 00 00 02 00 00 00 01 00 00 00 02 "
            "80 cf 00 02 00 00 00 02 00 00 00 03 00 00 00 04");
}

TEST_F(ArrayTest, RtpgTruncatesToTheAllocationLength) {
  const ItNexusId n = Login(1);
  const Reply r = Send(n, 0, "a3 2a 00 00 00 00 00 00 00 0a 00 00");
  ASSERT_TRUE(r.Good());
  EXPECT_EQ(r.Data(), "00 00 00 24 10 02 00 00 80 cf");
}

TEST_F(ArrayTest, StpgChangesOneLuAndAlertsTheOtherNexuses) {
  const ItNexusId a = Login(1);
  const ItNexusId b = Login(3);
  const ItNexusId c = Login(2);
  // Group 2 A/O, group 1 Standby, for LU 0 only.
  const Reply s = Send(b, 0, "a4 0a 00 00 00 00 00 00 00 0c 00 00",
                       Hex("00 00 00 00  00 00 00 02  02 00 00 01"));
  ASSERT_TRUE(s.Good()) << s.Sense();
  // The originator gets no UA; every other nexus does, for LU 0 only.
  EXPECT_TRUE(Send(b, 0, kRead1).Good());
  EXPECT_EQ(Send(a, 0, kRead1).Sense(), "70 00 06 00 00 00 00 0a 00 00 00 00 2a 06 00 00 00 00");
  EXPECT_EQ(Send(a, 0, kRead1).Sense(), "70 00 02 00 00 00 00 0a 00 00 00 00 04 0b 00 00 00 00");
  EXPECT_EQ(Send(c, 0, kTur).Sense(), "70 00 06 00 00 00 00 0a 00 00 00 00 2a 06 00 00 00 00");
  EXPECT_TRUE(Send(a, 1, kRead1).Good());  // LU 1 untouched
  // Status code 1 (altered by SET TARGET PORT GROUPS) on both groups.
  EXPECT_EQ(Send(b, 0, kRtpgLengthOnly).Data(),
            "00 00 00 20 "
            "82 cf 00 01 00 01 00 02 00 00 00 01 00 00 00 02 "
            "00 cf 00 02 00 01 00 02 00 00 00 03 00 00 00 04");
  EXPECT_EQ(Send(b, 1, kRtpgLengthOnly).Data().substr(0, 35),
            "00 00 00 20 01 cf 00 01 00 00 00 02");
}

TEST_F(ArrayTest, StpgRejectsWhatItMust) {
  const ItNexusId n = Login(1);
  // Transitioning (Fh) may not be requested (SPC-4 6.44): 26/00, field
  // pointer at the descriptor's byte 0 (list byte 4), C/D = 0.
  EXPECT_EQ(Send(n, 0, kStpg8, Hex("00 00 00 00 0f 00 00 01")).Sense(),
            "70 00 05 00 00 00 00 0a 00 00 00 00 26 00 00 80 00 04");
  // Unknown group 9: pointer at its id (byte 6).
  EXPECT_EQ(Send(n, 0, kStpg8, Hex("00 00 00 00 00 00 00 09")).Sense(),
            "70 00 05 00 00 00 00 0a 00 00 00 00 26 00 00 80 00 06");
  // A list that is not 4 + 4n: PARAMETER LIST LENGTH ERROR 1A/00.
  EXPECT_EQ(Send(n, 0, "a4 0a 00 00 00 00 00 00 00 06 00 00", Hex("00 00 00 00 00 00")).Sense(),
            FixedSense(5, 0x1a, 0));
  // Nothing changed.
  EXPECT_EQ(array_->GroupState(0, 1, now_)->state, S::kActiveOptimized);
}

TEST_F(ArrayTest, StpgOfAnUnsupportedStateIs2600) {
  ArrayConfig c = DemoArrayConfig(64);
  // Like istgt: only A/O and A/N may be requested.
  c.stpg_states = scsi::SupportedStates{}
                      .With(scsi::SupportedStates::kAoSup)
                      .With(scsi::SupportedStates::kAnSup);
  Make(c);
  const ItNexusId n = Login(1);
  EXPECT_EQ(Send(n, 0, kStpg8, Hex("00 00 00 00 02 00 00 02")).Sense(),
            "70 00 05 00 00 00 00 0a 00 00 00 00 26 00 00 80 00 04");
  EXPECT_TRUE(Send(n, 0, kStpg8, Hex("00 00 00 00 01 00 00 01")).Good());
}

TEST_F(ArrayTest, StpgNeedsExplicitTpgs) {
  ArrayConfig c = DemoArrayConfig(64);
  c.tpgs = scsi::Tpgs::kImplicit;
  Make(c);
  const ItNexusId n = Login(1);
  // ILLEGAL REQUEST 24/00 pointing at the service action (byte 1): the
  // MAINTENANCE OUT opcode is known, its SET TARGET PORT GROUPS action is not.
  EXPECT_EQ(Send(n, 0, kStpg8, Hex("00 00 00 00 00 00 00 02")).Sense(),
            "70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c0 00 01");
  // Implicit only: T_SUP set, RTPG still answers.
  EXPECT_EQ(Send(n, 0, kRtpgExtended).data.at(9), std::byte{0xCF});
  // Standard INQUIRY byte 5: TPGS = 01b.
  EXPECT_EQ(Send(n, 0, kInquiry).data.at(5), std::byte{0x10});
}

TEST_F(ArrayTest, ExplicitOnlyHasNoTransitioningSupport) {
  ArrayConfig c = DemoArrayConfig(64);
  c.tpgs = scsi::Tpgs::kExplicit;
  Make(c);
  const ItNexusId n = Login(1);
  EXPECT_EQ(Send(n, 0, kRtpgExtended).data.at(9), std::byte{0x4F});
  EXPECT_EQ(Send(n, 0, kInquiry).data.at(5), std::byte{0x20});
  EXPECT_TRUE(Send(n, 0, kStpg8, Hex("00 00 00 00 01 00 00 01")).Good());
}

TEST_F(ArrayTest, NoAluaAnswersLikeTgt) {
  ArrayConfig c = DemoArrayConfig(64);
  c.tpgs = scsi::Tpgs::kNone;
  for (LuConfig& lu : c.lus) lu.initial_states.clear();
  Make(c);
  const ItNexusId n = Login(3);
  EXPECT_EQ(Send(n, 0, kInquiry).data.at(5), std::byte{0x00});
  // RTPG → 24/00 like tgt (tests/data/captures/tgt/rtpg.sense.bin), plus our
  // field pointer at the service action.
  EXPECT_EQ(Send(n, 0, kRtpgLengthOnly).Sense(),
            "70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c0 00 01");
  EXPECT_TRUE(Send(n, 1, kRead1).Good());
  EXPECT_FALSE(array_->SetAccessState(0, 1, S::kStandby, now_).ok());
}

TEST_F(ArrayTest, UnitAttentionComesBeforeEverythingButInquiryReportLunsRequestSense) {
  const ItNexusId n = array_->AttachNexus(1, "iqn.x", 1);
  // INQUIRY and REPORT LUNS answer without consuming the UA (SPC-4 / SAM-5 5.14).
  EXPECT_TRUE(Send(n, 0, kInquiry).Good());
  EXPECT_TRUE(Send(n, 0, kReportLuns).Good());
  // Even an unknown opcode first reports the UA: 29/00 once, then 20/00.
  EXPECT_EQ(Send(n, 0, "c7 00 00 00 00 00").Sense(), FixedSense(6, 0x29, 0x00));
  EXPECT_EQ(Send(n, 0, "c7 00 00 00 00 00").Sense(), FixedSense(5, 0x20, 0x00));
  // LU 1 still has its own 29/00, which REQUEST SENSE returns as data.
  const Reply rs = Send(n, 1, kRequestSense);
  EXPECT_TRUE(rs.Good());
  EXPECT_EQ(rs.Data(), FixedSense(6, 0x29, 0x00));
  EXPECT_EQ(Send(n, 1, kRequestSense).Data(), FixedSense(0, 0, 0));
  EXPECT_TRUE(Send(n, 1, kTur).Good());
}

TEST_F(ArrayTest, ControlChangeAlertsEveryNexusOnce) {
  const ItNexusId a = Login(1);
  const ItNexusId b = Login(4);
  ASSERT_TRUE(array_->SetAccessState(1, 2, S::kActiveNonOptimized, now_).ok());
  EXPECT_EQ(Send(a, 1, kTur).Sense(), FixedSense(6, 0x2a, 0x06));
  EXPECT_TRUE(Send(a, 1, kTur).Good());
  EXPECT_EQ(Send(b, 1, kTur).Sense(), FixedSense(6, 0x2a, 0x06));
  EXPECT_TRUE(Send(b, 0, kTur).Good());  // LU 0 unchanged
  const auto v = array_->GroupState(1, 2, now_);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->status_code, 2);
  EXPECT_TRUE(v->preferred);
}

TEST_F(ArrayTest, LogicalUnitResetGives2903ToEveryNexusOfThatLu) {
  const ItNexusId a = Login(1);
  const ItNexusId b = Login(3);
  ASSERT_TRUE(array_->SetAccessState(0, 1, S::kActiveOptimized, now_).ok());  // no change, no UA
  EXPECT_EQ(array_->LogicalUnitReset(a, 0, now_), TaskManagementResult::kFunctionComplete);
  EXPECT_EQ(Send(a, 0, kTur).Sense(), FixedSense(6, 0x29, 0x03));
  EXPECT_EQ(Send(b, 0, kRead1).Sense(), FixedSense(6, 0x29, 0x03));
  EXPECT_TRUE(Send(b, 0, kRead1).Good());
  EXPECT_TRUE(Send(a, 1, kTur).Good());  // other LU: nothing
  EXPECT_EQ(array_->LogicalUnitReset(a, 7, now_), TaskManagementResult::kLunDoesNotExist);
  EXPECT_EQ(array_->LogicalUnitReset(999, 0, now_), TaskManagementResult::kRejected);
}

TEST_F(ArrayTest, ResetHidesAPendingStateChange) {
  const ItNexusId a = Login(1);
  ASSERT_TRUE(array_->SetAccessState(0, 2, S::kStandby, now_).ok());
  EXPECT_EQ(array_->LogicalUnitReset(a, 0, now_), TaskManagementResult::kFunctionComplete);
  EXPECT_EQ(Send(a, 0, kTur).Sense(), FixedSense(6, 0x29, 0x03));
  EXPECT_TRUE(Send(a, 0, kTur).Good());
}

TEST_F(ArrayTest, NexusLossForgetsItsUnitAttentions) {
  const ItNexusId a = Login(1);
  array_->DetachNexus(a);
  // A command on a gone nexus: ABORTED COMMAND 08/00.
  EXPECT_EQ(Send(a, 0, kTur).Sense(), FixedSense(0xb, 0x08, 0x00));
  // A new login starts with 29/00 again.
  const ItNexusId b = array_->AttachNexus(1, "iqn.x", 1);
  EXPECT_NE(a, b);
  EXPECT_EQ(Send(b, 0, kTur).Sense(), FixedSense(6, 0x29, 0x00));
  EXPECT_EQ(array_->AttachNexus(9, "iqn.x", 1), 0U);  // no port 9
}

}  // namespace
}  // namespace openmpio::array::testing
