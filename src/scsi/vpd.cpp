#include "scsi/vpd.h"

#include <algorithm>
#include <array>

namespace openmpio::scsi {

namespace {

// Checks the header and that the whole page is in the buffer; returns the
// page (header included) cut to its claimed length.
ParseResult<VpdHeader> WholePage(Bytes b, std::uint8_t page) {
  auto h = ParseVpdHeader(b, page);
  if (!h) return h;
  if (h->truncated) {
    return Fail(ParseErrc::kLengthOverflow, 2, "VPD page length exceeds buffer: re-issue longer");
  }
  return h;
}

// Header into `out` (which must hold 4 bytes).
void PutHeader(MutableBytes out, const VpdHeader& h, std::uint8_t page, std::size_t page_length) {
  Put8(out, 0,
       static_cast<std::uint8_t>(((h.peripheral_qualifier & 0x07u) << 5) |
                                 (h.peripheral_device_type & 0x1Fu)));
  Put8(out, 1, page);
  PutBe16(out, 2, static_cast<std::uint16_t>(page_length));
}

// A page that is the header and then one byte per element of `payload`
// (0x00: page codes, SPC-4 7.8.16; 0x80: serial number, 7.8.18). PAGE
// LENGTH is 16-bit: more than 0xFFFF elements are cut.
template <typename ByteSequence>
std::size_t EncodeBytePerElementPage(const VpdHeader& h, std::uint8_t page,
                                     const ByteSequence& payload, MutableBytes out) {
  const std::size_t n = std::min<std::size_t>(payload.size(), 0xFFFF);
  std::vector<std::byte> full(kVpdHeaderLength + n);
  const MutableBytes f{full};
  PutHeader(f, h, page, n);
  for (std::size_t i = 0; i < n; ++i) {
    Put8(f, kVpdHeaderLength + i, static_cast<std::uint8_t>(payload[i]));
  }
  return CopyTruncated(full, out);
}

// Walks designation descriptors in b[off, end) (SPC-4 7.8.6.1 table 459).
ParseResult<std::vector<Designator>> ParseDesignators(Bytes b, std::size_t off, std::size_t end) {
  std::vector<Designator> out;
  while (off < end) {
    if (off + kDesignatorHeaderLength > end) {
      return Fail(ParseErrc::kLengthOverflow, off, "designator header past page length");
    }
    const std::size_t len = U8(b, off + 3);
    if (off + kDesignatorHeaderLength + len > end) {
      return Fail(ParseErrc::kLengthOverflow, off, "designator past page length");
    }
    Designator d;
    d.protocol_identifier = Bits(b, off, 7, 4);
    d.code_set = static_cast<CodeSet>(Bits(b, off, 3, 0));
    d.piv = Bit(b, off + 1, 7);
    d.association = static_cast<Association>(Bits(b, off + 1, 5, 4));
    d.type = static_cast<DesignatorType>(Bits(b, off + 1, 3, 0));
    const Bytes v = b.subspan(off + kDesignatorHeaderLength, len);
    d.value.assign(v.begin(), v.end());
    out.push_back(std::move(d));
    off += kDesignatorHeaderLength + len;
  }
  return out;
}

// Descriptor bytes; value cut to 255.
std::size_t DesignatorSize(const Designator& d) {
  return kDesignatorHeaderLength + std::min<std::size_t>(d.value.size(), 255);
}
void PutDesignator(MutableBytes out, std::size_t off, const Designator& d) {
  const std::size_t len = std::min<std::size_t>(d.value.size(), 255);
  Put8(out, off,
       static_cast<std::uint8_t>(((d.protocol_identifier & 0x0Fu) << 4) |
                                 (static_cast<std::uint8_t>(d.code_set) & 0x0Fu)));
  Put8(out, off + 1,
       static_cast<std::uint8_t>((d.piv ? 0x80u : 0u) |
                                 ((static_cast<std::uint8_t>(d.association) & 0x03u) << 4) |
                                 (static_cast<std::uint8_t>(d.type) & 0x0Fu)));
  Put8(out, off + 3, static_cast<std::uint8_t>(len));
  for (std::size_t i = 0; i < len; ++i) out[off + kDesignatorHeaderLength + i] = d.value[i];
}

std::string LowerHex(const std::vector<std::byte>& v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(v.size() * 2);
  for (const std::byte x : v) {
    const auto u = std::to_integer<unsigned>(x);
    s.push_back(kDigits[u >> 4]);
    s.push_back(kDigits[u & 15u]);
  }
  return s;
}

bool Usable(const Designator& d) {
  return std::any_of(d.value.begin(), d.value.end(), [](std::byte x) { return x != std::byte{0}; });
}

// Best usable designator of `assoc` in the NAA > EUI-64 > SCSI name > T10
// order (DESIGN.md "Identity"); first in page order within a type.
const Designator* Best(const std::vector<Designator>& ds, Association assoc) {
  static constexpr std::array kOrder{DesignatorType::kNaa, DesignatorType::kEui64,
                                     DesignatorType::kScsiNameString, DesignatorType::kT10VendorId};
  for (const DesignatorType t : kOrder) {
    for (const Designator& d : ds) {
      if (d.association == assoc && d.type == t && Usable(d)) return &d;
    }
  }
  return nullptr;
}

// The one id of (assoc, type); two that disagree are an error.
ParseResult<std::optional<std::uint16_t>> UniqueId(const std::vector<Designator>& ds,
                                                   Association assoc, DesignatorType type) {
  std::optional<std::uint16_t> found;
  for (const Designator& d : ds) {
    if (d.association != assoc || d.type != type) continue;
    auto id = DesignatorPortOrGroupId(d);
    if (!id) return Unexpected<ParseError>{id.error()};
    if (found && *found != *id)
      return Fail(ParseErrc::kInconsistent, 0, "two different ids of one type");
    found = *id;
  }
  return found;
}

std::string TextUpToNul(const std::vector<std::byte>& v) {
  const auto nul = std::find(v.begin(), v.end(), std::byte{0});
  const std::size_t n = static_cast<std::size_t>(nul - v.begin());
  return TrimmedAscii(Bytes{v.data(), n});
}

}  // namespace

ParseResult<VpdHeader> ParseVpdHeader(Bytes b, std::uint8_t expected_page) {
  if (b.empty()) return Fail(ParseErrc::kEmpty, 0, "no VPD data");
  if (b.size() < kVpdHeaderLength)
    return Fail(ParseErrc::kTooShort, b.size(), "VPD page < 4 bytes");
  VpdHeader h;
  h.peripheral_qualifier = Bits(b, 0, 7, 5);
  h.peripheral_device_type = Bits(b, 0, 4, 0);
  h.page_code = U8(b, 1);
  if (h.page_code != expected_page) {
    return Fail(ParseErrc::kBadResponseCode, 1, "VPD page code is not the page asked for");
  }
  h.page_length = Be16(b, 2);
  h.claimed_length = kVpdHeaderLength + h.page_length;
  h.truncated = b.size() < h.claimed_length;
  return h;
}

// ---- 0x00 ---------------------------------------------------------------------

bool SupportedVpdPages::Supports(std::uint8_t page) const noexcept {
  return std::find(pages.begin(), pages.end(), page) != pages.end();
}

ParseResult<SupportedVpdPages> ParseSupportedVpdPages(Bytes b) {
  // SPC-4 7.8.16 table 498: one page code per byte from byte 4.
  auto h = WholePage(b, vpd::kSupportedPages);
  if (!h) return Unexpected<ParseError>{h.error()};
  SupportedVpdPages p;
  p.header = *h;
  for (std::size_t i = kVpdHeaderLength; i < h->claimed_length; ++i) p.pages.push_back(U8(b, i));
  return p;
}

std::size_t EncodeSupportedVpdPages(const SupportedVpdPages& p, MutableBytes out) {
  return EncodeBytePerElementPage(p.header, vpd::kSupportedPages, p.pages, out);
}

// ---- 0x80 ---------------------------------------------------------------------

ParseResult<UnitSerialNumber> ParseUnitSerialNumber(Bytes b) {
  // SPC-4 7.8.18 table 500: PRODUCT SERIAL NUMBER, ASCII, from byte 4.
  auto h = WholePage(b, vpd::kUnitSerialNumber);
  if (!h) return Unexpected<ParseError>{h.error()};
  Bytes sn = b.subspan(kVpdHeaderLength, h->page_length);
  // Some targets right-align the serial in a space-padded field (SPC-4 4.4.1
  // asks for left-aligned): drop leading spaces too, so both compare equal.
  std::size_t lead = 0;
  while (lead < sn.size() && U8(sn, lead) == ' ') ++lead;
  UnitSerialNumber p;
  p.header = *h;
  p.serial = TrimmedAscii(sn.subspan(lead));
  return p;
}

std::size_t EncodeUnitSerialNumber(const UnitSerialNumber& p, MutableBytes out) {
  return EncodeBytePerElementPage(p.header, vpd::kUnitSerialNumber, p.serial, out);
}

// ---- 0x83 ---------------------------------------------------------------------

ParseResult<std::uint16_t> DesignatorPortOrGroupId(const Designator& d) {
  // SPC-4 7.8.6.7 table 469 / 7.8.6.8 table 470 / 7.8.6.9 table 471:
  // bytes 0..1 reserved, bytes 2..3 the id, DESIGNATOR LENGTH 4.
  if (d.type != DesignatorType::kRelativeTargetPort && d.type != DesignatorType::kTargetPortGroup &&
      d.type != DesignatorType::kLogicalUnitGroup) {
    return Fail(ParseErrc::kInconsistent, 1, "designator type has no port/group id");
  }
  if (d.value.size() < 4) return Fail(ParseErrc::kTooShort, 3, "port/group designator < 4 bytes");
  if (d.value.size() > 4)
    return Fail(ParseErrc::kLengthOverflow, 3, "port/group designator > 4 bytes");
  return Be16(Bytes{d.value}, 2);
}

std::string DesignatorText(const Designator& d) {
  switch (d.type) {
    case DesignatorType::kNaa:
      return "naa." + LowerHex(d.value);
    case DesignatorType::kEui64:
      return "eui." + LowerHex(d.value);
    case DesignatorType::kScsiNameString:
      return TextUpToNul(d.value);
    case DesignatorType::kT10VendorId:
      return "t10." + TrimmedAscii(Bytes{d.value});
    default:
      break;
  }
  return "raw." + std::to_string(static_cast<unsigned>(d.type)) + "." + LowerHex(d.value);
}

ParseResult<std::optional<std::uint16_t>> DeviceIdentification::relative_target_port() const {
  return UniqueId(designators, Association::kTargetPort, DesignatorType::kRelativeTargetPort);
}
ParseResult<std::optional<std::uint16_t>> DeviceIdentification::target_port_group() const {
  return UniqueId(designators, Association::kTargetPort, DesignatorType::kTargetPortGroup);
}
ParseResult<std::optional<std::uint16_t>> DeviceIdentification::logical_unit_group() const {
  return UniqueId(designators, Association::kLogicalUnit, DesignatorType::kLogicalUnitGroup);
}

const Designator* DeviceIdentification::LogicalUnitDesignator() const {
  return Best(designators, Association::kLogicalUnit);
}
const Designator* DeviceIdentification::TargetDeviceDesignator() const {
  return Best(designators, Association::kTargetDevice);
}

std::optional<std::string> DeviceIdentification::TargetName() const {
  for (const Association a : {Association::kTargetDevice, Association::kTargetPort}) {
    for (const Designator& d : designators) {
      if (d.association == a && d.type == DesignatorType::kScsiNameString) {
        std::string name = TextUpToNul(d.value);
        if (!name.empty()) return name;
      }
    }
  }
  return std::nullopt;
}

std::optional<LuIdentity> ChooseLuIdentity(const DeviceIdentification& page) {
  const Designator* d = page.LogicalUnitDesignator();
  if (d == nullptr) return std::nullopt;
  return LuIdentity{*d, DesignatorText(*d)};
}

ParseResult<DeviceIdentification> ParseDeviceIdentification(Bytes b) {
  // SPC-4 7.8.6.1 table 458: designation descriptors from byte 4.
  auto h = WholePage(b, vpd::kDeviceIdentification);
  if (!h) return Unexpected<ParseError>{h.error()};
  auto ds = ParseDesignators(b, kVpdHeaderLength, h->claimed_length);
  if (!ds) return Unexpected<ParseError>{ds.error()};
  DeviceIdentification p;
  p.header = *h;
  p.designators = std::move(*ds);
  return p;
}

std::size_t EncodeDeviceIdentification(const DeviceIdentification& p, MutableBytes out) {
  std::size_t n = 0;
  for (const Designator& d : p.designators) n += DesignatorSize(d);
  // The page length is 16 bits: designators that would not fit are left out.
  std::vector<std::byte> full(kVpdHeaderLength + std::min<std::size_t>(n, 0xFFFF));
  const MutableBytes f{full};
  std::size_t off = kVpdHeaderLength;
  for (const Designator& d : p.designators) {
    if (off + DesignatorSize(d) > full.size()) break;
    PutDesignator(f, off, d);
    off += DesignatorSize(d);
  }
  PutHeader(f, p.header, vpd::kDeviceIdentification, off - kVpdHeaderLength);
  return CopyTruncated(f.first(off), out);
}

// ---- 0xB0 ---------------------------------------------------------------------

ParseResult<BlockLimits> ParseBlockLimits(Bytes b) {
  // SBC-3 6.6.4 table 182.
  auto h = WholePage(b, vpd::kBlockLimits);
  if (!h) return Unexpected<ParseError>{h.error()};
  if (h->page_length < kBlockLimitsShortPageLength) {
    return Fail(ParseErrc::kTooShort, 2, "block limits page length < 0x0C");
  }
  const std::size_t end = h->claimed_length;
  BlockLimits p;
  p.header = *h;
  p.wsnz = Bit(b, 4, 0);
  p.maximum_compare_and_write_length = U8(b, 5);
  p.optimal_transfer_length_granularity = Be16(b, 6);
  p.maximum_transfer_length = Be32(b, 8);
  p.optimal_transfer_length = Be32(b, 12);
  // Later fields exist only as far as the page length reaches (SBC-2's page
  // stopped at byte 15).
  if (end >= 20) p.maximum_prefetch_length = Be32(b, 16);
  if (end >= 24) p.maximum_unmap_lba_count = Be32(b, 20);
  if (end >= 28) p.maximum_unmap_block_descriptor_count = Be32(b, 24);
  if (end >= 32) p.optimal_unmap_granularity = Be32(b, 28);
  if (end >= 36 && Bit(b, 32, 7)) p.unmap_granularity_alignment = Be32(b, 32) & 0x7FFFFFFFu;
  if (end >= 44) p.maximum_write_same_length = Be64(b, 36);
  return p;
}

std::size_t EncodeBlockLimits(const BlockLimits& p, MutableBytes out) {
  const bool long_page = p.maximum_prefetch_length || p.maximum_unmap_lba_count ||
                         p.maximum_unmap_block_descriptor_count || p.optimal_unmap_granularity ||
                         p.unmap_granularity_alignment || p.maximum_write_same_length;
  const std::size_t page_length = long_page ? kBlockLimitsPageLength : kBlockLimitsShortPageLength;
  std::array<std::byte, kVpdHeaderLength + kBlockLimitsPageLength> storage{};
  const MutableBytes f = MutableBytes{storage}.first(kVpdHeaderLength + page_length);
  PutHeader(f, p.header, vpd::kBlockLimits, page_length);
  if (p.wsnz) OrBits(f, 4, 0x01);
  Put8(f, 5, p.maximum_compare_and_write_length);
  PutBe16(f, 6, p.optimal_transfer_length_granularity);
  PutBe32(f, 8, p.maximum_transfer_length);
  PutBe32(f, 12, p.optimal_transfer_length);
  if (long_page) {
    PutBe32(f, 16, p.maximum_prefetch_length.value_or(0));
    PutBe32(f, 20, p.maximum_unmap_lba_count.value_or(0));
    PutBe32(f, 24, p.maximum_unmap_block_descriptor_count.value_or(0));
    PutBe32(f, 28, p.optimal_unmap_granularity.value_or(0));
    if (p.unmap_granularity_alignment) {
      PutBe32(f, 32, 0x80000000u | (*p.unmap_granularity_alignment & 0x7FFFFFFFu));
    }
    PutBe64(f, 36, p.maximum_write_same_length.value_or(0));
  }
  return CopyTruncated(f, out);
}

// ---- 0xB2 ---------------------------------------------------------------------

ParseResult<LogicalBlockProvisioning> ParseLogicalBlockProvisioning(Bytes b) {
  // SBC-3 6.6.6 table 191 (SBC-4 widens LBPRZ to bits 4..2).
  auto h = WholePage(b, vpd::kLogicalBlockProvisioning);
  if (!h) return Unexpected<ParseError>{h.error()};
  if (h->page_length < 4) return Fail(ParseErrc::kTooShort, 2, "provisioning page length < 4");
  LogicalBlockProvisioning p;
  p.header = *h;
  p.threshold_exponent = U8(b, 4);
  p.lbpu = Bit(b, 5, 7);
  p.lbpws = Bit(b, 5, 6);
  p.lbpws10 = Bit(b, 5, 5);
  p.lbprz = Bits(b, 5, 4, 2);
  p.anc_sup = Bit(b, 5, 1);
  p.dp = Bit(b, 5, 0);
  const std::uint8_t type = Bits(b, 6, 2, 0);
  if (type > static_cast<std::uint8_t>(ProvisioningType::kThin)) {
    return Fail(ParseErrc::kReservedValue, 6, "reserved provisioning type");
  }
  p.provisioning_type = static_cast<ProvisioningType>(type);
  if (p.dp) {
    // SBC-3 6.6.6.2: the provisioning group descriptor is one designation
    // descriptor at byte 8.
    constexpr std::size_t kDescriptorOffset = 8;
    if (h->claimed_length < kDescriptorOffset + kDesignatorHeaderLength) {
      return Fail(ParseErrc::kLengthOverflow, 5, "DP set but no provisioning group descriptor");
    }
    const std::size_t len = U8(b, kDescriptorOffset + 3);
    auto ds = ParseDesignators(
        b, kDescriptorOffset,
        std::min(h->claimed_length, kDescriptorOffset + kDesignatorHeaderLength + len));
    if (!ds) return Unexpected<ParseError>{ds.error()};
    p.provisioning_group = std::move(ds->front());
  }
  return p;
}

std::size_t EncodeLogicalBlockProvisioning(const LogicalBlockProvisioning& p, MutableBytes out) {
  constexpr std::size_t kFixed = 8;
  const std::size_t desc = p.provisioning_group ? DesignatorSize(*p.provisioning_group) : 0;
  std::vector<std::byte> full(kFixed + desc);
  const MutableBytes f{full};
  PutHeader(f, p.header, vpd::kLogicalBlockProvisioning, full.size() - kVpdHeaderLength);
  Put8(f, 4, p.threshold_exponent);
  Put8(f, 5,
       static_cast<std::uint8_t>((p.lbpu ? 0x80u : 0u) | (p.lbpws ? 0x40u : 0u) |
                                 (p.lbpws10 ? 0x20u : 0u) | ((p.lbprz & 0x07u) << 2) |
                                 (p.anc_sup ? 0x02u : 0u) | (p.provisioning_group ? 0x01u : 0u)));
  Put8(f, 6, static_cast<std::uint8_t>(static_cast<std::uint8_t>(p.provisioning_type) & 0x07u));
  if (p.provisioning_group) PutDesignator(f, kFixed, *p.provisioning_group);
  return CopyTruncated(full, out);
}

}  // namespace openmpio::scsi
