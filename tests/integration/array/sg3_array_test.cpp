// sg3-utils as a third-party oracle for what the ARRAY answers (not just for
// the codecs, which tests/integration/scsi/sg3_oracle_test.cpp covers): the
// sense data of each ALUA state, unit attention and ILLEGAL REQUEST the
// array produces goes through `sg_decode_sense --file`, and the VPD 0x83 page
// of every port through `sg_vpd --inhex`; sg3's wording (typed here from
// SPC-4 annex D, not from our tables) must match.
//
// The small process helpers below play the same role as sg3_oracle_test's;
// they belong in tests/unit/common once the lead moves them there.
// Skips (GTEST_SKIP) only when sg3-utils is not installed.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "array/array.h"
#include "hex.h"

namespace openmpio::array {
namespace {

namespace fs = std::filesystem;
using openmpio::testing::Hex;
using openmpio::testing::ToHex;
using S = AsymmetricAccessState;

std::string Run(const std::string& command, int* exit_code) {
  std::string out;
  std::FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int st = pclose(p);
  *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

bool Installed(const char* tool) {
  int rc = -1;
  Run(std::string("command -v ") + tool + " >/dev/null", &rc);
  return rc == 0;
}

// Decodes `bytes` with `tool_prefix` + a temp hex file; returns the text.
std::string Decode(const std::string& tool_prefix, std::span<const std::byte> bytes) {
  const fs::path f = fs::temp_directory_path() /
                     ("openmpio-array-sg3-" + std::to_string(::getpid()) + ".hex");
  std::ofstream(f) << ToHex(bytes) << "\n";
  int rc = -1;
  const std::string out = Run(tool_prefix + f.string(), &rc);
  fs::remove(f);
  EXPECT_EQ(rc, 0) << out;
  return out;
}

class Sg3ArrayOracle : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Installed("sg_decode_sense") || !Installed("sg_vpd")) {
      GTEST_SKIP() << "sg3-utils is not installed: this oracle cannot run";
    }
    auto a = Array::Create(DemoArrayConfig(1024));
    ASSERT_TRUE(a.has_value());
    array_ = std::move(a).value();
  }

  CommandResponse Send(ItNexusId n, std::uint64_t lun, const char* cdb_hex,
                       const std::vector<std::byte>& out = {}) {
    const std::vector<std::byte> cdb = Hex(cdb_hex);
    data_.assign(4096, std::byte{0});
    CommandRequest req{n, lun, cdb, out, data_};
    const CommandResponse r = array_->Execute(req, now_);
    data_.resize(r.data_in_length);
    return r;
  }

  std::string SenseText(const CommandResponse& r) {
    EXPECT_EQ(r.status, scsi::ScsiStatus::kCheckCondition);
    return Decode("sg_decode_sense --file=",
                  std::span<const std::byte>(r.sense.data(), r.sense_length));
  }

  std::unique_ptr<Array> array_;
  std::vector<std::byte> data_;
  TimePoint now_{std::chrono::seconds(10)};
};

constexpr const char* kRead1 = "88 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00";

TEST_F(Sg3ArrayOracle, AluaSenseOfEachState) {
  struct Case {
    S state;
    bool implicit;
    const char* text;
  };
  const Case cases[] = {
      {S::kStandby, false, "Logical unit not accessible, target port in standby state"},
      {S::kUnavailable, false, "Logical unit not accessible, target port in unavailable state"},
      {S::kOffline, false, "Logical unit not ready, offline"},
      {S::kStandby, true, "Logical unit not accessible, asymmetric access state transition"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    ASSERT_TRUE(array_->SetAccessState(0, 1, S::kActiveOptimized, now_).ok());
    const ItNexusId n = array_->AttachNexus(1, "iqn.sg3", 1);
    EXPECT_NE(SenseText(Send(n, 0, kRead1)).find("Power on, reset, or bus device reset occurred"),
              std::string::npos);
    ASSERT_TRUE(array_->SetAccessState(0, 1, c.state, now_, c.implicit).ok());
    const std::string ua = SenseText(Send(n, 0, kRead1));
    EXPECT_NE(ua.find("Sense key: Unit Attention"), std::string::npos) << ua;
    EXPECT_NE(ua.find("Asymmetric access state changed"), std::string::npos) << ua;
    const std::string t = SenseText(Send(n, 0, kRead1));
    EXPECT_NE(t.find("Fixed format, current; Sense key: Not Ready"), std::string::npos) << t;
    EXPECT_NE(t.find(c.text), std::string::npos) << t;
    array_->DetachNexus(n);
    now_ += std::chrono::seconds(10);  // any transition ends
  }
}

TEST_F(Sg3ArrayOracle, ResetCapacityAndIllegalRequestSense) {
  const ItNexusId n = array_->AttachNexus(2, "iqn.sg3", 2);
  (void)Send(n, 0, "00 00 00 00 00 00");  // 29/00
  ASSERT_EQ(array_->LogicalUnitReset(n, 0, now_), TaskManagementResult::kFunctionComplete);
  std::string t = SenseText(Send(n, 0, "00 00 00 00 00 00"));
  EXPECT_NE(t.find("Bus device reset function occurred"), std::string::npos) << t;
  ASSERT_TRUE(array_->SetCapacity(0, 2048).ok());
  t = SenseText(Send(n, 0, "00 00 00 00 00 00"));
  EXPECT_NE(t.find("Capacity data has changed"), std::string::npos) << t;
  t = SenseText(Send(n, 0, "88 00 00 00 00 00 00 00 08 00 00 00 00 01 00 00"));
  EXPECT_NE(t.find("Logical block address out of range"), std::string::npos) << t;
  t = SenseText(Send(n, 0, "12 01 c7 10 00 00"));
  EXPECT_NE(t.find("Invalid field in cdb"), std::string::npos) << t;
  EXPECT_NE(t.find("Error in Command: byte 2"), std::string::npos) << t;
  t = SenseText(Send(n, 0, "a4 0a 00 00 00 00 00 00 00 08 00 00", Hex("00 00 00 00 0f 00 00 01")));
  EXPECT_NE(t.find("Invalid field in parameter list"), std::string::npos) << t;
  EXPECT_NE(t.find("Error in Data parameters: byte 4"), std::string::npos) << t;
  t = SenseText(Send(n, 0, "28 00 00 00 00 00 00 00 01 00"));
  EXPECT_NE(t.find("Invalid command operation code"), std::string::npos) << t;
}

TEST_F(Sg3ArrayOracle, Vpd83OfEveryPortIsOneDevice) {
  std::string lu_naa;
  for (std::uint16_t port = 1; port <= 4; ++port) {
    SCOPED_TRACE("port " + std::to_string(port));
    const ItNexusId n = array_->AttachNexus(port, "iqn.sg3", port);
    ASSERT_EQ(Send(n, 1, "12 01 83 10 00 00").status, scsi::ScsiStatus::kGood);
    const std::string t = Decode("sg_vpd --inhex=", data_);
    EXPECT_EQ(t.find("<<"), std::string::npos) << "sg_vpd complains: " << t;
    const std::uint16_t group = port <= 2 ? 1 : 2;
    EXPECT_NE(t.find("Relative target port: 0x" + std::to_string(port)), std::string::npos) << t;
    EXPECT_NE(t.find("Target port group: 0x" + std::to_string(group)), std::string::npos) << t;
    EXPECT_NE(t.find("iqn.2024-01.org.openmpio:array,t,0x000" + std::to_string(port)),
              std::string::npos) << t;
    // The target device section names the same target through every port.
    const auto dev = t.find("Target device that contains addressed lu:");
    ASSERT_NE(dev, std::string::npos) << t;
    EXPECT_NE(t.find("iqn.2024-01.org.openmpio:array\n", dev), std::string::npos) << t;
    // One NAA for the LU, identical on every port, ending in the LUN (1).
    const auto naa = t.find("0x60a0b0c");
    ASSERT_NE(naa, std::string::npos) << t;
    const std::string this_naa = t.substr(naa, 34);
    EXPECT_EQ(this_naa.substr(18), "0000000000000001");
    if (lu_naa.empty()) lu_naa = this_naa;
    EXPECT_EQ(this_naa, lu_naa);
  }
}

}  // namespace
}  // namespace openmpio::array
