// array::CheckConfig, the pure check Array::Create runs first (and that
// runtime::Preflight runs before nbdkit forks): each limit refused with a
// message naming it and the largest allowed value accepted, by CheckConfig
// and by Create alike (issue 13 item 3: a LU of more than 2^48 blocks passed
// every check before the fork and failed only at engine start).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "array_fixture.h"

namespace openmpio::array::testing {
namespace {

// A case: a change to the 64-block demo array, and the fragment the refusal
// names (empty: the change is at a limit and accepted).
struct Case {
  const char* name;
  std::function<void(ArrayConfig&)> mutate;
  const char* refusal;
};

ArrayConfig Mutated(const Case& k) {
  ArrayConfig c = DemoArrayConfig(64);
  k.mutate(c);
  return c;
}

// The demo's 4 ports (2 per group) plus `extra` more in group 1.
void AddPortsToGroup1(ArrayConfig& c, std::size_t extra) {
  for (std::size_t i = 0; i < extra; ++i) {
    c.ports.push_back({static_cast<std::uint16_t>(100 + i), 1});
  }
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // Capacity: 1..2^48 blocks, whatever the block size.
      {"2^48 blocks", [](ArrayConfig& c) { c.lus[0].blocks = kMaxLuBlocks; }, ""},
      {"2^48 blocks of 4096",
       [](ArrayConfig& c) {
         c.lus[0].blocks = kMaxLuBlocks;
         c.lus[0].block_size = 4096;
       },
       ""},
      {"2^48 + 1 blocks", [](ArrayConfig& c) { c.lus[0].blocks = kMaxLuBlocks + 1; },
       "LU 0: 281474976710657 blocks of 512 bytes; at most 2^48 (281474976710656) blocks"},
      {"2^64 - 1 blocks", [](ArrayConfig& c) { c.lus[1].blocks = UINT64_MAX; },
       "LU 1: 18446744073709551615 blocks"},
      {"1 block", [](ArrayConfig& c) { c.lus[0].blocks = 1; }, ""},
      {"0 blocks", [](ArrayConfig& c) { c.lus[0].blocks = 0; }, "LU 0: zero blocks"},
      // Block sizes.
      {"block size 1024", [](ArrayConfig& c) { c.lus[0].block_size = 1024; }, ""},
      {"block size 2048", [](ArrayConfig& c) { c.lus[0].block_size = 2048; }, ""},
      {"block size 0", [](ArrayConfig& c) { c.lus[0].block_size = 0; }, "block size 0"},
      {"block size 520", [](ArrayConfig& c) { c.lus[0].block_size = 520; }, "block size 520"},
      {"block size 8192", [](ArrayConfig& c) { c.lus[0].block_size = 8192; }, "block size 8192"},
      // LU numbers: 0..16383, each once (so at most 16384 LUs).
      {"LUN 16383", [](ArrayConfig& c) { c.lus[1].lun = kMaxLun; }, ""},
      {"LUN 16384", [](ArrayConfig& c) { c.lus[1].lun = kMaxLun + 1; }, "LUN above 16383"},
      {"LUN twice", [](ArrayConfig& c) { c.lus[1].lun = 0; }, "LU 0 listed twice"},
      // Ports and groups: RTPG counts a group's ports in one byte.
      {"255 ports in a group", [](ArrayConfig& c) { AddPortsToGroup1(c, 253); }, ""},
      {"256 ports in a group", [](ArrayConfig& c) { AddPortsToGroup1(c, 254); },
       "target port group 1 has more than 255 ports"},
      {"no port", [](ArrayConfig& c) { c.ports.clear(); }, "no target ports"},
      {"port 0", [](ArrayConfig& c) { c.ports[0].relative_target_port = 0; }, "port 0 is reserved"},
      {"port 65535", [](ArrayConfig& c) { c.ports[0].relative_target_port = 65535; }, ""},
      {"group 0", [](ArrayConfig& c) { c.ports[0].target_port_group = 0; }, "group 0 is reserved"},
      {"port twice", [](ArrayConfig& c) { c.ports[1].relative_target_port = 1; },
       "relative target port 1 listed twice"},
      // Identity fields: INQUIRY and the iSCSI name.
      {"target name of 223", [](ArrayConfig& c) { c.target_name = std::string(223, 'a'); }, ""},
      {"target name of 224", [](ArrayConfig& c) { c.target_name = std::string(224, 'a'); },
       "target name must be 1..223"},
      {"vendor of 8", [](ArrayConfig& c) { c.vendor = "12345678"; }, ""},
      {"vendor of 9", [](ArrayConfig& c) { c.vendor = "123456789"; }, "vendor/product/revision"},
      {"product of 17", [](ArrayConfig& c) { c.product = std::string(17, 'p'); },
       "vendor/product/revision"},
      {"revision of 5", [](ArrayConfig& c) { c.revision = "12345"; }, "vendor/product/revision"},
      {"serial of 64", [](ArrayConfig& c) { c.lus[0].serial = std::string(64, 's'); }, ""},
      {"serial of 65", [](ArrayConfig& c) { c.lus[0].serial = std::string(65, 's'); },
       "serial must be at most 64"},
      {"company id of 24 bits", [](ArrayConfig& c) { c.ieee_company_id = 0xFFFFFF; }, ""},
      {"company id of 25 bits", [](ArrayConfig& c) { c.ieee_company_id = 0x1000000; },
       "IEEE company id is 24 bits"},
      {"transition time 255 s",
       [](ArrayConfig& c) { c.implicit_transition_time = std::chrono::seconds(255); }, ""},
      {"transition time 256 s",
       [](ArrayConfig& c) { c.implicit_transition_time = std::chrono::seconds(256); },
       "implicit transition time must be 0..255 s"},
  };
  return cases;
}

TEST(ArrayCheckConfig, EachLimitIsRefusedByNameAndTheLargestAllowedIsAccepted) {
  for (const Case& k : Cases()) {
    SCOPED_TRACE(k.name);
    const Status s = CheckConfig(Mutated(k));
    if (*k.refusal == '\0') {
      EXPECT_TRUE(s.ok()) << s.ToString();
      continue;
    }
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(s.Is(NtStatus::kInvalidParameter)) << s.ToString();
    EXPECT_NE(s.message().find(k.refusal), std::string::npos) << s.message();
  }
}

// Create runs CheckConfig first: the same answer, the same words, for every
// case (so a front end that checks before forking and the engine that
// builds after it cannot disagree).
TEST(ArrayCheckConfig, CreateRefusesAndAcceptsExactlyWhatCheckConfigDoes) {
  for (const Case& k : Cases()) {
    SCOPED_TRACE(k.name);
    const ArrayConfig c = Mutated(k);
    const Status checked = CheckConfig(c);
    const auto created = Array::Create(c);
    ASSERT_EQ(created.has_value(), checked.ok())
        << (created ? checked.ToString() : created.error().ToString());
    if (!created) {
      EXPECT_EQ(created.error().ToString(), checked.ToString());
    }
  }
}

// The capacity control paths share the limit: a LU added or grown past
// 2^48 blocks is refused, one of exactly 2^48 is taken.
TEST(ArrayCheckConfig, AddedAndResizedLusKeepTheBlockLimit) {
  auto a = Array::Create(DemoArrayConfig(64));
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  LuConfig lu = DemoArrayConfig(64).lus.at(0);
  lu.lun = 2;
  lu.blocks = kMaxLuBlocks + 1;
  const Status too_big = (*a)->AddLogicalUnit(lu);
  EXPECT_TRUE(too_big.Is(NtStatus::kInvalidParameter)) << too_big.ToString();
  EXPECT_NE(too_big.message().find("at most 2^48"), std::string::npos) << too_big.message();
  lu.blocks = kMaxLuBlocks;
  EXPECT_TRUE((*a)->AddLogicalUnit(lu).ok());
  EXPECT_TRUE((*a)->SetCapacity(0, kMaxLuBlocks + 1).Is(NtStatus::kInvalidParameter));
  EXPECT_TRUE((*a)->SetCapacity(0, kMaxLuBlocks).ok());
  EXPECT_EQ((*a)->LogicalUnit(0)->blocks, kMaxLuBlocks);
}

// The largest LU serves: READ CAPACITY(16) reports last LBA 2^48 - 1 (SBC-3
// 5.16.2 table 64, bytes 0..7), and its last block reads and writes.
class LargestLu : public ArrayTest {
 protected:
  void SetUp() override {
    ArrayConfig c = DemoArrayConfig(64);
    c.lus[0].blocks = kMaxLuBlocks;
    Make(c);
  }
};

TEST_F(LargestLu, ReportsItsCapacityAndServesItsLastBlock) {
  const ItNexusId n = Login(1);
  const Reply cap = Send(n, 0, kReadCapacity);
  ASSERT_TRUE(cap.Good());
  EXPECT_EQ(cap.Data().substr(0, 35), "00 00 ff ff ff ff ff ff 00 00 02 00");
  // WRITE(16) / READ(16) of one block at LBA 2^48 - 1.
  const std::vector<std::byte> block(512, std::byte{0x5a});
  EXPECT_TRUE(Send(n, 0, "8a 00 00 00 ff ff ff ff ff ff 00 00 00 01 00 00", block).Good());
  const Reply r = Send(n, 0, "88 00 00 00 ff ff ff ff ff ff 00 00 00 01 00 00");
  ASSERT_TRUE(r.Good());
  EXPECT_EQ(r.data, block);
}

}  // namespace
}  // namespace openmpio::array::testing
