// LUs added and removed while nexuses are logged in (Array::AddLogicalUnit /
// RemoveLogicalUnit): REPORT LUNS follows at once and every nexus hears UA
// 3F/0E REPORTED LUNS DATA HAS CHANGED on the LUs it still has. REPORT LUNS
// answers are hand-worked from SPC-4 6.33 (4-byte list length, 4 reserved,
// 8 bytes per LUN) with SAM-5 peripheral device addressing (LUN in byte 1).
#include "array_fixture.h"

namespace openmpio::array::testing {
namespace {

constexpr const char* kReportLuns = "a0 00 00 00 00 00 00 00 01 00 00 00";  // allocation 256

LuConfig ThirdLu() {
  LuConfig lu = DemoArrayConfig(4096).lus.at(0);
  lu.lun = 2;
  lu.serial.clear();
  return lu;
}

TEST_F(ArrayTest, AddedLuIsReportedAndAnnouncedOnEveryNexus) {
  const ItNexusId a = Login(1);
  const ItNexusId b = Login(3);
  EXPECT_EQ(Send(a, 0, kReportLuns).Data(),
            "00 00 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00");
  ASSERT_TRUE(array_->AddLogicalUnit(ThirdLu()).ok());
  // REPORT LUNS is exempt from the unit attention (SAM-5 5.14) and already
  // lists LUN 2.
  EXPECT_EQ(Send(a, 0, kReportLuns).Data(),
            "00 00 00 18 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00"
            " 00 02 00 00 00 00 00 00");
  for (ItNexusId n : {a, b}) {
    EXPECT_EQ(Send(n, 0, kTur).Sense(), FixedSense(6, 0x3f, 0x0e));
    EXPECT_EQ(Send(n, 1, kTur).Sense(), FixedSense(6, 0x3f, 0x0e));
    EXPECT_TRUE(Send(n, 0, kTur).Good());  // reported once
  }
  EXPECT_TRUE(Send(a, 2, kRead1).Good());
  EXPECT_EQ(array_->config().lus.size(), 3U);
}

TEST_F(ArrayTest, RemovedLuAnswersNotSupportedAndIsAnnounced) {
  const ItNexusId a = Login(2);
  ASSERT_TRUE(array_->RemoveLogicalUnit(1).ok());
  EXPECT_EQ(Send(a, 0, kReportLuns).Data(), "00 00 00 08 00 00 00 00 00 00 00 00 00 00 00 00");
  EXPECT_EQ(Send(a, 1, kRead1).Sense(), FixedSense(5, 0x25, 0x00));
  EXPECT_EQ(Send(a, 0, kTur).Sense(), FixedSense(6, 0x3f, 0x0e));
  EXPECT_TRUE(Send(a, 0, kTur).Good());
  EXPECT_EQ(array_->config().lus.size(), 1U);
}

TEST_F(ArrayTest, LuInventoryChangesAreCheckedAndChangeNothingWhenRefused) {
  const ItNexusId a = Login(1);
  LuConfig dup = ThirdLu();
  dup.lun = 1;
  EXPECT_FALSE(array_->AddLogicalUnit(dup).ok());
  LuConfig bad = ThirdLu();
  bad.block_size = 1000;
  EXPECT_FALSE(array_->AddLogicalUnit(bad).ok());
  EXPECT_EQ(array_->RemoveLogicalUnit(7).code(), static_cast<std::uint32_t>(NtStatus::kNoSuchDevice));
  // Nothing changed: no unit attention, the same two LUs.
  EXPECT_TRUE(Send(a, 0, kTur).Good());
  EXPECT_EQ(Send(a, 0, kReportLuns).Data(),
            "00 00 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00");
  EXPECT_EQ(array_->config().lus.size(), 2U);
}

TEST_F(ArrayTest, ReaddedLuStartsEmpty) {
  const ItNexusId a = Login(1);
  std::vector<std::byte> block(512, std::byte{0x5a});
  ASSERT_TRUE(Send(a, 1, kWrite1, block).Good());
  const LuConfig old = array_->config().lus.at(1);
  ASSERT_TRUE(array_->RemoveLogicalUnit(1).ok());
  ASSERT_TRUE(array_->AddLogicalUnit(old).ok());
  EXPECT_EQ(Send(a, 1, kRead1).Sense(), "");  // no UA on the new LU itself
  const Reply r = Send(a, 1, kRead1);
  ASSERT_TRUE(r.Good());
  EXPECT_EQ(r.data, std::vector<std::byte>(512, std::byte{0}));
}

}  // namespace
}  // namespace openmpio::array::testing
