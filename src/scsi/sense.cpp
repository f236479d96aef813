#include "scsi/sense.h"

#include <algorithm>
#include <array>

namespace openmpio::scsi {

namespace {

constexpr std::uint8_t kFixedCurrent = 0x70;
constexpr std::uint8_t kFixedDeferred = 0x71;
constexpr std::uint8_t kDescriptorCurrent = 0x72;
constexpr std::uint8_t kDescriptorDeferred = 0x73;

// Both formats keep ADDITIONAL SENSE LENGTH in byte 7 (SPC-4 4.5.2.1, 4.5.3).
constexpr std::size_t kSenseHeaderLength = 8;

// SPC-4 4.5.2.2: information descriptor, type 0x00, additional length 0x0A.
constexpr std::uint8_t kInformationDescriptor = 0x00;
constexpr std::uint8_t kInformationDescriptorAdditional = 0x0A;
// SPC-4 4.5.2.4: sense key specific descriptor, type 0x02, additional length 0x06.
constexpr std::uint8_t kSenseKeySpecificDescriptor = 0x02;
constexpr std::uint8_t kSenseKeySpecificDescriptorAdditional = 0x06;

// Fixed format, SPC-4 4.5.3 table 53: VALID+response code (0), sense key
// and flags (2), INFORMATION (3..6), additional length (7), command-specific
// (8..11), ASC (12), ASCQ (13), FRU (14), sense-key specific (15..17).
ParseResult<SenseData> ParseFixed(Bytes b, SenseData s) {
  // Byte 2: FILEMARK (7), EOM (6), ILI (5), SENSE KEY (3..0).
  s.filemark = Bit(b, 2, 7);
  s.eom = Bit(b, 2, 6);
  s.ili = Bit(b, 2, 5);
  s.key = static_cast<SenseKey>(Bits(b, 2, 3, 0));
  if (Bit(b, 0, 7)) s.information = Be32(b, 3);

  // Only bytes inside the claimed length are sense data (SPC-4 4.5.3 lets a
  // target send an additional length below 10; ASC/ASCQ it leaves out are
  // "absent", i.e. 0). A buffer that ends before a field the claim covers
  // was truncated: fine for the optional tail, an error if it cuts ASC/ASCQ,
  // which the engine cannot act without.
  const std::size_t usable = std::min(b.size(), s.claimed_length);
  if (s.claimed_length > 12) {
    if (b.size() <= 12) return Fail(ParseErrc::kTooShort, b.size(), "fixed sense cut before ASC");
    s.asc = U8(b, 12);
  }
  if (s.claimed_length > 13) {
    if (b.size() <= 13) return Fail(ParseErrc::kTooShort, b.size(), "fixed sense cut before ASCQ");
    s.ascq = U8(b, 13);
  }
  if (usable >= 18) s.sense_key_specific = std::array{U8(b, 15), U8(b, 16), U8(b, 17)};
  return s;
}

// Descriptor format, SPC-4 4.5.2.1 table 26: response code (0), sense key
// (1 bits 3..0), ASC (2), ASCQ (3), additional length (7), descriptors from
// byte 8, each: type (0), additional length (1), then that many bytes.
ParseResult<SenseData> ParseDescriptor(Bytes b, SenseData s) {
  s.key = static_cast<SenseKey>(Bits(b, 1, 3, 0));
  s.asc = U8(b, 2);
  s.ascq = U8(b, 3);

  const std::size_t end = std::min(b.size(), s.claimed_length);
  std::size_t off = kSenseHeaderLength;
  while (off < end) {
    if (off + 2 > end) {
      // A descriptor header cut by the buffer is truncation; cut by the
      // claimed length it is a lie.
      if (s.truncated) break;
      return Fail(ParseErrc::kLengthOverflow, off,
                  "sense descriptor header past additional length");
    }
    const std::uint8_t type = U8(b, off);
    const std::size_t len = std::size_t{2} + U8(b, off + 1);
    if (off + len > s.claimed_length) {
      return Fail(ParseErrc::kLengthOverflow, off, "sense descriptor past additional length");
    }
    if (off + len > b.size()) break;  // within the claim but past the buffer: truncated
    const Bytes d = b.subspan(off, len);
    if (type == kInformationDescriptor) {
      // SPC-4 4.5.2.2 table 27: VALID byte 2 bit 7, INFORMATION bytes 4..11.
      if (U8(d, 1) != kInformationDescriptorAdditional) {
        return Fail(ParseErrc::kInconsistent, off, "information descriptor length not 0x0A");
      }
      if (Bit(d, 2, 7)) s.information = Be64(d, 4);
    } else if (type == kSenseKeySpecificDescriptor) {
      // SPC-4 4.5.2.4 table 29: sense-key specific bytes 4..6.
      if (U8(d, 1) != kSenseKeySpecificDescriptorAdditional) {
        return Fail(ParseErrc::kInconsistent, off, "sense key specific descriptor length not 0x06");
      }
      s.sense_key_specific = std::array{U8(d, 4), U8(d, 5), U8(d, 6)};
    }
    off += len;
  }
  return s;
}

}  // namespace

const char* SenseKeyName(SenseKey key) noexcept {
  switch (key) {
    case SenseKey::kNoSense:
      return "NO SENSE";
    case SenseKey::kRecoveredError:
      return "RECOVERED ERROR";
    case SenseKey::kNotReady:
      return "NOT READY";
    case SenseKey::kMediumError:
      return "MEDIUM ERROR";
    case SenseKey::kHardwareError:
      return "HARDWARE ERROR";
    case SenseKey::kIllegalRequest:
      return "ILLEGAL REQUEST";
    case SenseKey::kUnitAttention:
      return "UNIT ATTENTION";
    case SenseKey::kDataProtect:
      return "DATA PROTECT";
    case SenseKey::kBlankCheck:
      return "BLANK CHECK";
    case SenseKey::kVendorSpecific:
      return "VENDOR SPECIFIC";
    case SenseKey::kCopyAborted:
      return "COPY ABORTED";
    case SenseKey::kAbortedCommand:
      return "ABORTED COMMAND";
    case SenseKey::kReserved0C:
      return "RESERVED (0xC)";
    case SenseKey::kVolumeOverflow:
      return "VOLUME OVERFLOW";
    case SenseKey::kMiscompare:
      return "MISCOMPARE";
    case SenseKey::kCompleted:
      return "COMPLETED";
  }
  return "?";
}

ParseResult<SenseData> ParseSense(Bytes b) {
  if (b.empty()) return Fail(ParseErrc::kEmpty, 0, "no sense data");
  // Byte 0 bits 6..0: RESPONSE CODE (SPC-4 4.5.1 table 25); 0x7F is vendor
  // specific and 0x00..0x6F are reserved/obsolete.
  const std::uint8_t code = Bits(b, 0, 6, 0);
  if (code < kFixedCurrent || code > kDescriptorDeferred) {
    return Fail(ParseErrc::kBadResponseCode, 0, "sense response code not 0x70..0x73");
  }
  if (b.size() < kSenseHeaderLength)
    return Fail(ParseErrc::kTooShort, b.size(), "sense shorter than 8 bytes");

  SenseData s;
  s.current = code == kFixedCurrent || code == kDescriptorCurrent;
  s.descriptor_format = code == kDescriptorCurrent || code == kDescriptorDeferred;
  s.additional_length = U8(b, 7);
  s.claimed_length = kSenseHeaderLength + s.additional_length;
  s.truncated = b.size() < s.claimed_length;
  return s.descriptor_format ? ParseDescriptor(b, s) : ParseFixed(b, s);
}

std::size_t BuildFixedSense(const SenseSpec& s, MutableBytes out) {
  std::array<std::byte, kFixedSenseLength> full{};
  const MutableBytes f{full};
  const bool valid = s.information.has_value() && *s.information <= 0xFFFFFFFFu;
  Put8(f, 0,
       static_cast<std::uint8_t>((valid ? 0x80u : 0u) |
                                 (s.deferred ? kFixedDeferred : kFixedCurrent)));
  Put8(f, 2, static_cast<std::uint8_t>(static_cast<std::uint8_t>(s.key) & 0x0Fu));
  if (valid) PutBe32(f, 3, static_cast<std::uint32_t>(*s.information));
  Put8(f, 7, static_cast<std::uint8_t>(kFixedSenseLength - kSenseHeaderLength));
  Put8(f, 12, s.code.asc);
  Put8(f, 13, s.code.ascq);
  return CopyTruncated(full, out);
}

std::size_t BuildDescriptorSense(const SenseSpec& s, MutableBytes out) {
  constexpr std::size_t kInfoLength = 2 + kInformationDescriptorAdditional;
  std::array<std::byte, kSenseHeaderLength + kInfoLength> full{};
  const MutableBytes f{full};
  Put8(f, 0, s.deferred ? kDescriptorDeferred : kDescriptorCurrent);
  Put8(f, 1, static_cast<std::uint8_t>(static_cast<std::uint8_t>(s.key) & 0x0Fu));
  Put8(f, 2, s.code.asc);
  Put8(f, 3, s.code.ascq);
  std::size_t len = kSenseHeaderLength;
  if (s.information) {
    Put8(f, 8, kInformationDescriptor);
    Put8(f, 9, kInformationDescriptorAdditional);
    Put8(f, 10, 0x80);  // VALID
    PutBe64(f, 12, *s.information);
    len += kInfoLength;
  }
  Put8(f, 7, static_cast<std::uint8_t>(len - kSenseHeaderLength));
  return CopyTruncated(Bytes{full}.first(len), out);
}

}  // namespace openmpio::scsi
