// The stores behind the LUs, config validation, and properties: no CDB and
// data-out bytes crash the array, and what is written is what is read.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "array/storage.h"
#include "array_fixture.h"

namespace openmpio::array::testing {
namespace {

void StoreBehaves(BlockStore& s) {
  std::vector<std::byte> out(100, std::byte{0xFF});
  ASSERT_TRUE(s.Read(0, out).ok());
  EXPECT_EQ(out, std::vector<std::byte>(100));  // never written: zeros
  // Across the 64 KiB chunk boundary.
  const std::vector<std::byte> in(300, std::byte{0x77});
  ASSERT_TRUE(s.Write(kMemoryChunkSize - 150, in).ok());
  std::vector<std::byte> back(300);
  ASSERT_TRUE(s.Read(kMemoryChunkSize - 150, back).ok());
  EXPECT_EQ(back, in);
  // Past the end is refused, not clipped.
  EXPECT_FALSE(s.Write(s.size() - 10, in).ok());
  EXPECT_FALSE(s.Read(s.size() + 1, std::span<std::byte>()).ok());
  // Deallocate zeros the range.
  ASSERT_TRUE(s.Deallocate(kMemoryChunkSize - 100, 50).ok());
  ASSERT_TRUE(s.Read(kMemoryChunkSize - 150, back).ok());
  EXPECT_EQ(back[49], std::byte{0x77});
  EXPECT_EQ(back[50], std::byte{0});
  EXPECT_EQ(back[99], std::byte{0});
  EXPECT_EQ(back[100], std::byte{0x77});
}

TEST(ArrayStorage, MemoryStoreIsSparseAndFreesWholeChunks) {
  auto s = MakeMemoryStore(4 * kMemoryChunkSize);
  StoreBehaves(*s);
  EXPECT_EQ(s->allocated_bytes(), 2 * kMemoryChunkSize);
  ASSERT_TRUE(s->Deallocate(0, 2 * kMemoryChunkSize).ok());
  EXPECT_EQ(s->allocated_bytes(), 0U);
  ASSERT_TRUE(s->Write(3 * kMemoryChunkSize, std::vector<std::byte>(10, std::byte{1})).ok());
  ASSERT_TRUE(s->Resize(kMemoryChunkSize).ok());
  EXPECT_EQ(s->allocated_bytes(), 0U);
}

TEST(ArrayStorage, SparseFileStore) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("openmpio-array-" + std::to_string(::getpid()) + ".img"))
                               .string();
  {
    auto s = OpenSparseFileStore(path, std::uint64_t{1} << 30);  // 1 GiB, sparse
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    StoreBehaves(**s);
    EXPECT_LT((*s)->allocated_bytes(), std::uint64_t{1} << 20);
    EXPECT_TRUE((*s)->Flush().ok());
  }
  EXPECT_EQ(std::filesystem::file_size(path), std::uint64_t{1} << 30);
  std::filesystem::remove(path);
  EXPECT_FALSE(OpenSparseFileStore("/nonexistent-dir/x.img", 4096).has_value());
}

TEST(ArrayConfigTest, DemoShapeIsValid) {
  const ArrayConfig c = DemoArrayConfig();
  ASSERT_EQ(c.ports.size(), 4U);
  ASSERT_EQ(c.lus.size(), 2U);
  auto a = Array::Create(c);
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  const auto g = (*a)->GroupState(1, 2, TimePoint{});
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->state, AsymmetricAccessState::kActiveOptimized);
  EXPECT_TRUE(g->preferred);
}

TEST(ArrayConfigTest, EachMistakeIsNamed) {
  struct Case {
    const char* fragment;
    void (*mutate)(ArrayConfig&);
  };
  const Case cases[] = {
      {"no target ports", [](ArrayConfig& c) { c.ports.clear(); }},
      {"port 0", [](ArrayConfig& c) { c.ports[0].relative_target_port = 0; }},
      {"listed twice", [](ArrayConfig& c) { c.ports[1].relative_target_port = 1; }},
      {"group 0", [](ArrayConfig& c) { c.ports[0].target_port_group = 0; }},
      {"target name", [](ArrayConfig& c) { c.target_name.clear(); }},
      {"vendor", [](ArrayConfig& c) { c.vendor = "TOO LONG VENDOR"; }},
      {"implicit transition", [](ArrayConfig& c) { c.implicit_transition_time = std::chrono::seconds(300); }},
      {"block size", [](ArrayConfig& c) { c.lus[0].block_size = 520; }},
      {"zero blocks", [](ArrayConfig& c) { c.lus[0].blocks = 0; }},
      {"LU 1 listed twice", [](ArrayConfig& c) { c.lus[0].lun = 1; }},
      {"16383", [](ArrayConfig& c) { c.lus[0].lun = 70000; }},
      {"unknown target port group", [](ArrayConfig& c) { c.lus[0].initial_states[0].target_port_group = 9; }},
      {"needs an initial state", [](ArrayConfig& c) { c.lus[0].initial_states.pop_back(); }},
      {"initial state must be", [](ArrayConfig& c) { c.lus[0].initial_states[0].state = AsymmetricAccessState::kTransitioning; }},
      {"without a path", [](ArrayConfig& c) { c.lus[0].backing = BackingKind::kSparseFile; }},
      {"preferred group", [](ArrayConfig& c) { c.lus[0].preferred_group = 5; }},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.fragment);
    ArrayConfig c = DemoArrayConfig(64);
    k.mutate(c);
    const auto a = Array::Create(c);
    ASSERT_FALSE(a.has_value());
    EXPECT_TRUE(a.error().Is(NtStatus::kInvalidParameter));
    EXPECT_NE(a.error().message().find(k.fragment), std::string::npos) << a.error().message();
  }
}

// Any CDB and data-out, on any LUN, never crash the array nor claim more
// data-in than the buffer holds; and the array still answers afterwards.
RC_GTEST_PROP(ArrayProperties, ArbitraryCommandsNeverCrash,
              (std::vector<std::uint8_t> cdb, std::vector<std::uint8_t> data_out,
               std::uint8_t lun, std::uint16_t data_in_size)) {
  auto a = Array::Create(DemoArrayConfig(256));
  RC_ASSERT(a.has_value());
  const ItNexusId n = (*a)->AttachNexus(1, "iqn.rc", 1);
  std::vector<std::byte> c(cdb.size());
  for (std::size_t i = 0; i < cdb.size(); ++i) c[i] = std::byte{cdb[i]};
  std::vector<std::byte> out(data_out.size());
  for (std::size_t i = 0; i < data_out.size(); ++i) out[i] = std::byte{data_out[i]};
  std::vector<std::byte> in(data_in_size % 8192);
  for (int round = 0; round < 2; ++round) {  // the second one past the UA
    CommandRequest req{n, std::uint64_t{lun} % 3U, c, out, in};
    const CommandResponse r = (*a)->Execute(req, TimePoint{});
    RC_ASSERT(r.data_in_length <= in.size());
    RC_ASSERT(r.sense_length <= kMaxSense);
    if (r.status == scsi::ScsiStatus::kCheckCondition) RC_ASSERT(r.sense_length >= 18);
  }
}

RC_GTEST_PROP(ArrayProperties, WhatIsWrittenIsRead,
              (std::uint16_t lba_seed, std::uint8_t blocks_seed, std::uint8_t fill, bool fua)) {
  auto a = Array::Create(DemoArrayConfig(1024));
  RC_ASSERT(a.has_value());
  const ItNexusId n = (*a)->AttachNexus(1, "iqn.rc", 1);
  const std::uint32_t blocks = 1U + blocks_seed % 32U;
  const std::uint64_t lba = lba_seed % (1024U - blocks + 1U);
  std::vector<std::byte> data(blocks * 512U);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::byte(static_cast<std::uint8_t>(fill + i));
  std::array<std::byte, 16> w{};
  w[0] = std::byte{0x8A};
  w[1] = fua ? std::byte{0x08} : std::byte{0};
  for (std::size_t i = 0; i < 8; ++i) w[2 + i] = std::byte(static_cast<std::uint8_t>(lba >> (56 - 8 * i)));
  w[13] = std::byte(static_cast<std::uint8_t>(blocks));
  std::vector<std::byte> none;
  CommandRequest ua{n, 0, w, none, none};
  (void)(*a)->Execute(ua, TimePoint{});  // consumes 29/00
  RC_ASSERT((*a)->Execute(CommandRequest{n, 0, w, data, none}, TimePoint{}).status ==
            scsi::ScsiStatus::kGood);
  std::array<std::byte, 16> r = w;
  r[0] = std::byte{0x88};
  std::vector<std::byte> back(data.size());
  RC_ASSERT((*a)->Execute(CommandRequest{n, 0, r, none, back}, TimePoint{}).status ==
            scsi::ScsiStatus::kGood);
  RC_ASSERT(back == data);
}

}  // namespace
}  // namespace openmpio::array::testing
