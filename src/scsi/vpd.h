// Vital product data pages (SPC-4 7.8, SBC-3 6.6): decoders for the pages
// discovery reads and encoders for the simulated array.
//
// Truncation: every page decoder fails with kLengthOverflow when the buffer
// is shorter than the page length claims. ParseVpdHeader succeeds on such a
// buffer and gives `claimed_length`, so the caller re-issues INQUIRY with
// that allocation length (the libiscsi *_getfullsize() role).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scsi/bytes.h"
#include "scsi/parse_error.h"

namespace openmpio::scsi {

namespace vpd {
inline constexpr std::uint8_t kSupportedPages = 0x00;
inline constexpr std::uint8_t kUnitSerialNumber = 0x80;
inline constexpr std::uint8_t kDeviceIdentification = 0x83;
inline constexpr std::uint8_t kBlockLimits = 0xB0;
inline constexpr std::uint8_t kBlockDeviceCharacteristics = 0xB1;
inline constexpr std::uint8_t kLogicalBlockProvisioning = 0xB2;
}  // namespace vpd

// ---- Header (SPC-4 7.8.1, table 470) ----------------------------------------
// byte 0 PERIPHERAL QUALIFIER (7..5) | DEVICE TYPE (4..0); byte 1 PAGE CODE;
// bytes 2..3 PAGE LENGTH (bytes after byte 3).
struct VpdHeader {
  std::uint8_t peripheral_qualifier = 0;
  std::uint8_t peripheral_device_type = 0;
  std::uint8_t page_code = 0;
  std::uint16_t page_length = 0;
  std::size_t claimed_length = 0;  // 4 + page_length
  bool truncated = false;          // buffer shorter than claimed_length
};
inline constexpr std::size_t kVpdHeaderLength = 4;

// kEmpty; kTooShort (< 4 bytes); kBadResponseCode (byte 1 is not
// `expected_page`). A truncated page is not an error here.
[[nodiscard]] ParseResult<VpdHeader> ParseVpdHeader(Bytes b, std::uint8_t expected_page);

// ---- 0x00 Supported VPD pages (SPC-4 7.8.16) --------------------------------
struct SupportedVpdPages {
  VpdHeader header;
  std::vector<std::uint8_t> pages;  // as listed (SPC-4: ascending)
  [[nodiscard]] bool Supports(std::uint8_t page) const noexcept;
};
[[nodiscard]] ParseResult<SupportedVpdPages> ParseSupportedVpdPages(Bytes b);
std::size_t EncodeSupportedVpdPages(const SupportedVpdPages& p, MutableBytes out);

// ---- 0x80 Unit serial number (SPC-4 7.8.18) ---------------------------------
struct UnitSerialNumber {
  VpdHeader header;
  std::string serial;  // ASCII; leading and trailing spaces/NULs removed
};
[[nodiscard]] ParseResult<UnitSerialNumber> ParseUnitSerialNumber(Bytes b);
std::size_t EncodeUnitSerialNumber(const UnitSerialNumber& p, MutableBytes out);

// ---- 0x83 Device identification (SPC-4 7.8.6) -------------------------------
// Values outside the named ones are kept as they came (enum classes hold any
// byte value), never rejected: a target may use types we do not know.
enum class CodeSet : std::uint8_t { kBinary = 1, kAscii = 2, kUtf8 = 3 };
enum class Association : std::uint8_t { kLogicalUnit = 0, kTargetPort = 1, kTargetDevice = 2 };
enum class DesignatorType : std::uint8_t {
  kVendorSpecific = 0x0,
  kT10VendorId = 0x1,
  kEui64 = 0x2,
  kNaa = 0x3,
  kRelativeTargetPort = 0x4,
  kTargetPortGroup = 0x5,
  kLogicalUnitGroup = 0x6,
  kMd5LogicalUnitId = 0x7,
  kScsiNameString = 0x8,
  kProtocolSpecificPortId = 0x9,
  kUuid = 0xA,
};

// One designation descriptor (SPC-4 7.8.6.1, table 459):
// byte 0 PROTOCOL IDENTIFIER (7..4) | CODE SET (3..0);
// byte 1 PIV (7) | ASSOCIATION (5..4) | DESIGNATOR TYPE (3..0);
// byte 3 DESIGNATOR LENGTH; the designator follows.
struct Designator {
  std::uint8_t protocol_identifier = 0;  // 5 = iSCSI (SPC-4 7.6.1)
  CodeSet code_set = CodeSet::kBinary;
  bool piv = false;
  Association association = Association::kLogicalUnit;
  DesignatorType type = DesignatorType::kVendorSpecific;
  std::vector<std::byte> value;  // the designator bytes, raw

  friend bool operator==(const Designator&, const Designator&) = default;
};
inline constexpr std::size_t kDesignatorHeaderLength = 4;

// The 16-bit id of a relative target port (type 4, SPC-4 7.8.6.7), target
// port group (type 5, 7.8.6.8) or logical unit group (type 6, 7.8.6.9)
// designator: exactly 4 bytes, id in bytes 2..3. kInconsistent for another
// type, kTooShort / kLengthOverflow for a designator of the wrong length.
[[nodiscard]] ParseResult<std::uint16_t> DesignatorPortOrGroupId(const Designator& d);

// Canonical text of a designator, for naming a disk:
//   NAA      "naa." + lowercase hex of the designator     (naa.6001405...)
//   EUI-64   "eui." + lowercase hex                        (eui.0123...)
//   SCSI name string: the string up to its first NUL      (iqn.2003-...)
//   T10 vendor id: "t10." + the ASCII, trailing spaces cut (t10.LIO-ORG ...)
//   anything else: "raw.<type>." + lowercase hex.
[[nodiscard]] std::string DesignatorText(const Designator& d);

struct DeviceIdentification {
  VpdHeader header;
  std::vector<Designator> designators;  // in page order

  // Association 01 type 4 / type 5; association 00 type 6. nullopt when the
  // page has none; an error when one is malformed or two disagree.
  [[nodiscard]] ParseResult<std::optional<std::uint16_t>> relative_target_port() const;
  [[nodiscard]] ParseResult<std::optional<std::uint16_t>> target_port_group() const;
  [[nodiscard]] ParseResult<std::optional<std::uint16_t>> logical_unit_group() const;

  // The LU identity (DESIGN.md "Identity"): association 00, NAA > EUI-64 >
  // SCSI name string > T10 vendor id; the first of the best type in page
  // order. Empty or all-zero designators are never chosen (they would merge
  // different disks). nullptr when the page has none.
  [[nodiscard]] const Designator* LogicalUnitDesignator() const;
  // The same preference among association 10 (target device) designators.
  [[nodiscard]] const Designator* TargetDeviceDesignator() const;
  // The SCSI name of the target: association 10 type 8, else association 01
  // type 8 (an iSCSI target port name "iqn...,t,0x0001"), up to its NUL.
  [[nodiscard]] std::optional<std::string> TargetName() const;
};

struct LuIdentity {
  Designator designator;
  std::string name;  // DesignatorText(designator)
};
// LogicalUnitDesignator() with its canonical text; nullopt when none.
[[nodiscard]] std::optional<LuIdentity> ChooseLuIdentity(const DeviceIdentification& page);

// Errors: header errors; kLengthOverflow (page truncated, or a designator
// running past the page length).
[[nodiscard]] ParseResult<DeviceIdentification> ParseDeviceIdentification(Bytes b);
// Designators longer than 255 bytes are cut to 255 (the length is one byte).
std::size_t EncodeDeviceIdentification(const DeviceIdentification& p, MutableBytes out);

// ---- 0xB0 Block limits (SBC-3 6.6.4, table 182) -----------------------------
// Fields at bytes 16 and beyond are absent in short (page length 0x0C,
// SBC-2 era) pages; each is read only if the page length covers it.
inline constexpr std::uint16_t kBlockLimitsPageLength = 0x3C;
inline constexpr std::uint16_t kBlockLimitsShortPageLength = 0x0C;
struct BlockLimits {
  VpdHeader header;
  bool wsnz = false;                                                  // byte 4 bit 0
  std::uint8_t maximum_compare_and_write_length = 0;                  // byte 5
  std::uint16_t optimal_transfer_length_granularity = 0;              // bytes 6..7
  std::uint32_t maximum_transfer_length = 0;                          // bytes 8..11 (0 = no limit)
  std::uint32_t optimal_transfer_length = 0;                          // bytes 12..15
  std::optional<std::uint32_t> maximum_prefetch_length;               // bytes 16..19
  std::optional<std::uint32_t> maximum_unmap_lba_count;               // bytes 20..23
  std::optional<std::uint32_t> maximum_unmap_block_descriptor_count;  // bytes 24..27
  std::optional<std::uint32_t> optimal_unmap_granularity;             // bytes 28..31
  // Bytes 32..35: present only when UGAVALID (bit 31) is set.
  std::optional<std::uint32_t> unmap_granularity_alignment;
  std::optional<std::uint64_t> maximum_write_same_length;  // bytes 36..43
};
// Errors: header errors; kLengthOverflow (truncated); kTooShort (page
// length below 0x0C).
[[nodiscard]] ParseResult<BlockLimits> ParseBlockLimits(Bytes b);
// A full 0x3C page (absent fields written as 0, UGAVALID from
// unmap_granularity_alignment) unless every optional field is absent: then
// the short 0x0C page. Returns the full length.
std::size_t EncodeBlockLimits(const BlockLimits& p, MutableBytes out);

// ---- 0xB2 Logical block provisioning (SBC-3 6.6.6, table 191) ---------------
enum class ProvisioningType : std::uint8_t {
  kFull = 0,  // not reported / fully provisioned
  kResource = 1,
  kThin = 2,
};
struct LogicalBlockProvisioning {
  VpdHeader header;
  std::uint8_t threshold_exponent = 0;  // byte 4
  bool lbpu = false;                    // byte 5 bit 7: UNMAP supported
  bool lbpws = false;                   // bit 6: WRITE SAME(16) with UNMAP
  bool lbpws10 = false;                 // bit 5: WRITE SAME(10) with UNMAP
  std::uint8_t lbprz = 0;               // bits 4..2 (SBC-3: bit 2 only; 1 = reads zeros)
  bool anc_sup = false;                 // bit 1
  bool dp = false;                      // bit 0: a provisioning group descriptor follows
  ProvisioningType provisioning_type = ProvisioningType::kFull;  // byte 6 bits 2..0
  std::optional<Designator> provisioning_group;                  // bytes 8.. when DP
};
// Errors: header errors; kLengthOverflow (truncated, or the provisioning
// group descriptor runs past the page); kTooShort (page length below 4);
// kReservedValue (provisioning type 3..7).
[[nodiscard]] ParseResult<LogicalBlockProvisioning> ParseLogicalBlockProvisioning(Bytes b);
// Page length 4, or 4 + the descriptor when provisioning_group is set. DP is
// written from provisioning_group (not from `dp`), so the page never claims
// a descriptor it lacks. Returns the full length.
std::size_t EncodeLogicalBlockProvisioning(const LogicalBlockProvisioning& p, MutableBytes out);

}  // namespace openmpio::scsi
