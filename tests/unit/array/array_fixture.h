// Shared helpers of the array tests: an array from a config, logins, and
// commands sent as hand-typed CDB hex with the answer's sense as hex.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "array/array.h"
#include "hex.h"

namespace openmpio::array::testing {

using openmpio::testing::Hex;
using openmpio::testing::ToHex;

struct Reply {
  CommandResponse response;
  std::vector<std::byte> data;  // data-in, data_in_length bytes
  [[nodiscard]] std::string Sense() const {
    return ToHex(std::span<const std::byte>{response.sense.data(), response.sense_length});
  }
  [[nodiscard]] std::string Data() const { return ToHex(data); }
  [[nodiscard]] bool Good() const { return response.status == scsi::ScsiStatus::kGood; }
};

// Fixed-format sense (SPC-4 4.5.3 table 51) of 18 bytes: response code 70h,
// sense key byte 2, additional length 0Ah, ASC/ASCQ bytes 12..13.
inline std::string FixedSense(int key, int asc, int ascq) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "70 00 %02x 00 00 00 00 0a 00 00 00 00 %02x %02x 00 00 00 00", key,
                asc, ascq);
  return buf;
}

class ArrayTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(DemoArrayConfig(4096)); }

  void Make(const ArrayConfig& c) {
    auto a = Array::Create(c);
    ASSERT_TRUE(a.has_value()) << a.error().ToString();
    array_ = std::move(*a);
  }

  Reply Send(ItNexusId nexus, std::uint64_t lun, const std::string& cdb_hex,
             const std::vector<std::byte>& data_out = {}, std::size_t data_in = 4096) {
    const std::vector<std::byte> cdb = Hex(cdb_hex);
    Reply r;
    r.data.resize(data_in);
    CommandRequest req;
    req.nexus = nexus;
    req.lun = lun;
    req.cdb = cdb;
    req.data_out = data_out;
    req.data_in = r.data;
    r.response = array_->Execute(req, now_);
    EXPECT_LE(r.response.data_in_length, data_in);
    r.data.resize(r.response.data_in_length);
    return r;
  }

  // A login whose 29/00 (power on) has been consumed on every LU.
  ItNexusId Login(std::uint16_t port) {
    const ItNexusId n = array_->AttachNexus(port, "iqn.2024-01.test:init", 0x23d000000001ULL);
    EXPECT_NE(n, 0U);
    for (const LuConfig& lu : array_->config().lus) {
      const Reply r = Send(n, lu.lun, "03 00 00 00 fc 00");  // REQUEST SENSE takes the UA
      EXPECT_TRUE(r.Good());
    }
    return n;
  }

  std::unique_ptr<Array> array_;
  TimePoint now_{std::chrono::seconds(1000)};
};

// CDBs, typed from SBC-3 / SPC-4 tables.
inline constexpr const char* kTur = "00 00 00 00 00 00";
inline constexpr const char* kRead1 = "88 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00";
inline constexpr const char* kWrite1 = "8a 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00";
inline constexpr const char* kReadCapacity = "9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00";
inline constexpr const char* kSyncCache = "91 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00";
inline constexpr const char* kWriteSameUnmap1 = "93 08 00 00 00 00 00 00 00 00 00 00 00 01 00 00";
inline constexpr const char* kUnmap24 = "42 00 00 00 00 00 00 00 18 00";
inline constexpr const char* kModeSenseCaching = "5a 08 08 00 00 00 00 00 fc 00";
inline constexpr const char* kInquiry = "12 00 00 00 60 00";
inline constexpr const char* kVpd83 = "12 01 83 10 00 00";
inline constexpr const char* kReportLuns = "a0 00 00 00 00 00 00 00 10 00 00 00";
inline constexpr const char* kRtpgLengthOnly = "a3 0a 00 00 00 00 00 00 10 00 00 00";
inline constexpr const char* kRtpgExtended = "a3 2a 00 00 00 00 00 00 10 00 00 00";
inline constexpr const char* kStpg8 = "a4 0a 00 00 00 00 00 00 00 08 00 00";
inline constexpr const char* kRequestSense = "03 00 00 00 fc 00";

}  // namespace openmpio::array::testing
