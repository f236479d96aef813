// REPORT LUNS (SPC-4 6.33): CDB, parameter data decoder and encoder, and the
// single-level LUN formats of SAM-5 4.7 (peripheral and flat space).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "scsi/parse_error.h"

namespace openmpio::scsi {

inline constexpr std::size_t kReportLunsCdbLength = 12;
inline constexpr std::size_t kReportLunsHeaderLength = 8;
inline constexpr std::size_t kLunLength = 8;
inline constexpr std::uint32_t kReportLunsMinAllocation = 16;  // SPC-4 6.33
inline constexpr std::uint32_t kReportLunsInitialAllocation = 4096;

struct ReportLunsCdb {
  std::uint8_t select_report = 0;  // byte 2: 0 all LUs except well known
  std::uint32_t allocation_length = kReportLunsInitialAllocation;  // bytes 6..9
  std::uint8_t control = 0;
};

[[nodiscard]] Cdb BuildReportLunsCdb(const ReportLunsCdb& c);
// Target side: kTooShort, kUnsupported at 0, kReservedValue at 1, 3..5, 10
// (reserved bytes) or 2 (SELECT REPORT not 0x00..0x02 / 0x10..0x12),
// kInconsistent at 6 (allocation length below 16: SPC-4 requires INVALID
// FIELD IN CDB).
[[nodiscard]] ParseResult<ReportLunsCdb> ParseReportLunsCdb(Bytes cdb);

struct Lun {
  std::array<std::byte, kLunLength> raw{};

  // The LUN number for single-level peripheral (address method 00, bus 0) or
  // flat space (01) addressing with bytes 2..7 zero; nullopt otherwise
  // (hierarchical, extended, well-known LUNs).
  [[nodiscard]] std::optional<std::uint16_t> number() const noexcept;
  // Peripheral addressing below 256, flat space up to 16383; nullopt above.
  [[nodiscard]] static std::optional<Lun> FromNumber(std::uint16_t n) noexcept;

  friend bool operator==(const Lun&, const Lun&) = default;
};

struct ReportLunsData {
  std::uint32_t lun_list_length = 0;  // bytes 0..3 as claimed
  // The buffer ended before lun_list_length + 8: luns holds the LUNs that fit
  // whole; re-issue with required_allocation_length.
  bool truncated = false;
  std::uint64_t required_allocation_length = 0;  // lun_list_length + 8
  std::vector<Lun> luns;
  friend bool operator==(const ReportLunsData&, const ReportLunsData&) = default;
};

// Errors: kEmpty; kTooShort (fewer than 8 header bytes); kInconsistent at 0
// (LUN LIST LENGTH not a multiple of 8).
[[nodiscard]] ParseResult<ReportLunsData> ParseReportLuns(Bytes data);

// Target side: writes the header (LUN LIST LENGTH = 8 * n) and the LUNs into
// as much of `out` as fits; returns the full length.
std::size_t EncodeReportLuns(std::span<const Lun> luns, MutableBytes out);

}  // namespace openmpio::scsi
