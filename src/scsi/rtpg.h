// REPORT TARGET PORT GROUPS (SPC-4 6.36): CDB builder and parser, parameter
// data decoder and encoder. Both sides use this file: the initiator builds the
// CDB and decodes the answer, the simulated array parses the CDB and encodes.
//
// Re-issue contract (multipath-tools habit): ask with kRtpgInitialAllocation;
// if the answer says `truncated`, ask again with `required_allocation_length`.
// `truncated` only ever means "the buffer ended before RETURN DATA LENGTH
// said it would"; a descriptor that overruns RETURN DATA LENGTH itself, an
// unknown format, or a lying header are ParseErrors, never `truncated`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "scsi/alua.h"
#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "scsi/parse_error.h"

namespace openmpio::scsi {

// PARAMETER DATA FORMAT (CDB byte 1 bits 7..5) and FORMAT TYPE (answer byte 4
// bits 6..4) share these values (SPC-4 6.36.1 table 164).
enum class RtpgFormat : std::uint8_t {
  kLengthOnly = 0,  // header is RETURN DATA LENGTH only; descriptors at byte 4
  kExtended = 1,    // + format type, IMPLICIT TRANSITION TIME; descriptors at 8
};

inline constexpr std::uint32_t kRtpgInitialAllocation = 4096;
inline constexpr std::size_t kRtpgCdbLength = 12;
inline constexpr std::size_t kTpgDescriptorLength = 8;  // without port descriptors
inline constexpr std::size_t kTargetPortDescriptorLength = 4;

// The decoded CDB (target side) and the builder's input (initiator side).
struct RtpgCdb {
  RtpgFormat format = RtpgFormat::kExtended;
  std::uint32_t allocation_length = kRtpgInitialAllocation;
  std::uint8_t control = 0;
};

// 0xA3, SA 0x0A | format << 5, allocation length in bytes 6..9 (SPC-4 6.36).
[[nodiscard]] Cdb BuildRtpgCdb(const RtpgCdb& c);
// Target side. Errors name the CDB byte (for INVALID FIELD IN CDB):
// kTooShort (fewer than 12 bytes), kUnsupported at 0/1 (not MAINTENANCE IN /
// not SA 0x0A), kReservedValue at 1 (format > 1) or at 2..5/10 (reserved
// bytes non-zero).
[[nodiscard]] ParseResult<RtpgCdb> ParseRtpgCdb(Bytes cdb);

// STATUS CODE, byte 5 of a descriptor (SPC-4 6.36 table 168). Other values are
// reserved and kept raw in TargetPortGroupDescriptor::status_code.
enum class TpgStatusCode : std::uint8_t {
  kNoStatus = 0x00,
  kAlteredBySetTargetPortGroups = 0x01,
  kAlteredByImplicitBehavior = 0x02,
};

struct TargetPortGroupDescriptor {
  bool pref = false;                                 // byte 0 bit 7
  AccessStateField state{};                          // byte 0 bits 3..0 (raw + decoded)
  SupportedStates supported{};                       // byte 1
  std::uint16_t target_port_group = 0;               // bytes 2..3
  std::uint8_t status_code = 0;                      // byte 5, raw
  std::uint8_t target_port_count = 0;                // byte 7, as the target claimed it
  std::vector<std::uint16_t> relative_target_ports;  // bytes 2..3 of each port

  [[nodiscard]] bool status_code_reserved() const noexcept { return status_code > 2; }
  [[nodiscard]] std::optional<TpgStatusCode> status() const noexcept {
    if (status_code_reserved()) return std::nullopt;
    return static_cast<TpgStatusCode>(status_code);
  }
  friend bool operator==(const TargetPortGroupDescriptor&,
                         const TargetPortGroupDescriptor&) = default;
};

struct RtpgData {
  // Decided from the answer (byte 4 bits 6..4), not from what was asked: a
  // target may ignore the requested format (istgt answers length-only).
  RtpgFormat format = RtpgFormat::kLengthOnly;
  std::optional<std::uint8_t> implicit_transition_time;  // seconds; extended only
  std::uint32_t return_data_length = 0;                  // bytes 0..3 as claimed
  // The buffer ended before return_data_length + 4: groups holds only the
  // descriptors that fit whole; re-issue with required_allocation_length.
  bool truncated = false;
  std::uint64_t required_allocation_length = 0;  // return_data_length + 4
  std::vector<TargetPortGroupDescriptor> groups;

  // Encoder input needs none of the claimed/truncated fields.
  friend bool operator==(const RtpgData&, const RtpgData&) = default;
};

// Decodes RTPG parameter data. Never trusts RETURN DATA LENGTH or TARGET PORT
// COUNT past the buffer. Errors:
//  kEmpty            zero bytes
//  kTooShort         fewer than 4 bytes (no RETURN DATA LENGTH)
//  kReservedValue    byte 4 bits 6..4 neither 000 nor 001 (unknown format)
//  kInconsistent     extended format but RETURN DATA LENGTH < 4 (header cut)
//  kLengthOverflow   a descriptor or its port list runs past RETURN DATA
//                    LENGTH while the buffer holds all of it (malformed,
//                    re-issuing would not help)
// A reserved access state or status code is not an error: it is kept raw and
// flagged (AccessStateField::reserved(), status_code_reserved()), so the
// engine treats that group as unusable and reports what the target said.
// When truncated, `format` is only known if byte 4 arrived (else
// kLengthOnly), and an extended answer cut before byte 8 has no
// implicit_transition_time; the re-issued answer has both.
[[nodiscard]] ParseResult<RtpgData> ParseRtpg(Bytes data);

// As above, for the initiator that knows how much it asked for: a truncated
// answer shorter than the allocation length is a target under-delivering
// (kLengthOverflow at data.size()), not a reason to re-issue.
[[nodiscard]] ParseResult<RtpgData> ParseRtpg(Bytes data, std::uint32_t allocation_length);

// Target side: encodes `data.groups` in `format` (RETURN DATA LENGTH and
// TARGET PORT COUNT computed from the vectors; implicit_transition_time
// defaults to 0; at most 255 ports per group are written). Writes as much as
// fits into `out` (SCSI truncates to the allocation length) and returns the
// full length.
std::size_t EncodeRtpg(const RtpgData& data, RtpgFormat format, MutableBytes out);
// The full length EncodeRtpg would produce.
[[nodiscard]] std::size_t RtpgEncodedLength(const RtpgData& data, RtpgFormat format);

}  // namespace openmpio::scsi
