// INQUIRY (SPC-4 6.6), its VPD pages (SPC-4 7.8, SBC-3 6.6) and REPORT
// LUNS (SPC-4 6.33): who the LU and the port are.
#include <cstdio>

#include "array/array_state.h"
#include "scsi/inquiry.h"
#include "scsi/report_luns.h"
#include "scsi/vpd.h"

namespace openmpio::array {
namespace {

using scsi::Association;
using scsi::CodeSet;
using scsi::Designator;
using scsi::DesignatorType;

constexpr std::uint8_t kProtocolIscsi = 5;  // SPC-4 7.6.1 table 362

std::vector<std::byte> Id16(std::uint16_t id) {
  // SPC-4 7.8.6.7 / 7.8.6.8: two reserved bytes, then the id.
  return {std::byte{0}, std::byte{0}, std::byte{static_cast<std::uint8_t>(id >> 8)},
          std::byte{static_cast<std::uint8_t>(id)}};
}

// SPC-4 7.8.6.11: a SCSI name string is NUL-terminated and padded with NULs
// to a multiple of 4 bytes.
std::vector<std::byte> NameString(const std::string& s) {
  std::vector<std::byte> v;
  for (const char c : s) v.push_back(static_cast<std::byte>(c));
  do {
    v.push_back(std::byte{0});
  } while (v.size() % 4 != 0);
  return v;
}

Designator Make(std::uint8_t protocol, CodeSet cs, Association a, DesignatorType t,
                std::vector<std::byte> value) {
  Designator d;
  d.protocol_identifier = protocol;
  d.code_set = cs;
  d.piv = protocol != 0;  // PIV: the protocol identifier field is meaningful
  d.association = a;
  d.type = t;
  d.value = std::move(value);
  return d;
}

// SPC-4 7.8.6 (0x83): the LU's NAA and T10 vendor id (same through every
// port), then this port's relative port, group and iSCSI port name, then the
// target device's name (association 10) that ties the ports into one device.
scsi::DeviceIdentification DeviceIdentificationFor(const ArrayState& s, const Command& cmd) {
  scsi::DeviceIdentification p;
  p.designators.push_back(Make(0, CodeSet::kBinary, Association::kLogicalUnit, DesignatorType::kNaa,
                               cmd.lu->naa));
  std::string t10 = s.config.vendor;
  t10.resize(8, ' ');
  t10 += cmd.lu->serial;
  std::vector<std::byte> t10v;
  for (const char c : t10) t10v.push_back(static_cast<std::byte>(c));
  p.designators.push_back(Make(0, CodeSet::kAscii, Association::kLogicalUnit,
                               DesignatorType::kT10VendorId, std::move(t10v)));
  p.designators.push_back(Make(kProtocolIscsi, CodeSet::kBinary, Association::kTargetPort,
                               DesignatorType::kRelativeTargetPort, Id16(cmd.port)));
  if (s.config.tpgs != scsi::Tpgs::kNone) {
    p.designators.push_back(Make(kProtocolIscsi, CodeSet::kBinary, Association::kTargetPort,
                                 DesignatorType::kTargetPortGroup, Id16(cmd.group)));
  }
  // The iSCSI target port name (RFC 7143 / SPC-4 7.6.4.2): name + ",t,0x" +
  // target portal group tag, which is the relative port id here.
  char tag[16];
  std::snprintf(tag, sizeof tag, ",t,0x%04x", static_cast<unsigned>(cmd.port));
  p.designators.push_back(Make(kProtocolIscsi, CodeSet::kUtf8, Association::kTargetPort,
                               DesignatorType::kScsiNameString,
                               NameString(s.config.target_name + tag)));
  p.designators.push_back(Make(kProtocolIscsi, CodeSet::kUtf8, Association::kTargetDevice,
                               DesignatorType::kScsiNameString, NameString(s.config.target_name)));
  return p;
}

std::size_t EncodeVpd(const ArrayState& s, const Command& cmd, std::uint8_t page,
                      scsi::MutableBytes out, bool* known) {
  *known = true;
  const LuState& lu = *cmd.lu;
  switch (page) {
    case scsi::vpd::kSupportedPages: {
      scsi::SupportedVpdPages p;
      p.pages = {scsi::vpd::kSupportedPages, scsi::vpd::kUnitSerialNumber,
                 scsi::vpd::kDeviceIdentification, scsi::vpd::kBlockLimits,
                 scsi::vpd::kLogicalBlockProvisioning};
      return scsi::EncodeSupportedVpdPages(p, out);
    }
    case scsi::vpd::kUnitSerialNumber: {
      scsi::UnitSerialNumber p;
      p.serial = lu.serial;
      return scsi::EncodeUnitSerialNumber(p, out);
    }
    case scsi::vpd::kDeviceIdentification:
      return scsi::EncodeDeviceIdentification(DeviceIdentificationFor(s, cmd), out);
    case scsi::vpd::kBlockLimits: {
      // SBC-3 6.6.4: UNMAP limits only when thin; the optimal unmap
      // granularity is the memory store's chunk, which UNMAP really frees.
      scsi::BlockLimits p;
      p.maximum_transfer_length = s.config.maximum_transfer_length;
      p.optimal_transfer_length_granularity =
          static_cast<std::uint16_t>(lu.config.block_size >= 4096 ? 1 : 4096 / lu.config.block_size);
      p.maximum_unmap_lba_count = lu.config.thin ? s.config.maximum_unmap_lba_count : 0;
      p.maximum_unmap_block_descriptor_count =
          lu.config.thin ? s.config.maximum_unmap_descriptor_count : 0;
      p.optimal_unmap_granularity =
          lu.config.thin ? static_cast<std::uint32_t>(kMemoryChunkSize / lu.config.block_size) : 0;
      p.maximum_write_same_length = s.config.maximum_unmap_lba_count;
      return scsi::EncodeBlockLimits(p, out);
    }
    case scsi::vpd::kLogicalBlockProvisioning: {
      scsi::LogicalBlockProvisioning p;  // SBC-3 6.6.6
      p.lbpu = lu.config.thin;
      p.lbpws = lu.config.thin;
      p.lbprz = lu.config.thin ? 1 : 0;  // unmapped blocks read as zeros
      p.provisioning_type =
          lu.config.thin ? scsi::ProvisioningType::kThin : scsi::ProvisioningType::kFull;
      return scsi::EncodeLogicalBlockProvisioning(p, out);
    }
    default:
      *known = false;
      return 0;
  }
}

}  // namespace

void HandleInquiry(ArrayState& s, Command& cmd, const scsi::InquiryCdb& cdb) {
  const std::size_t room = Room(cmd.request, cdb.allocation_length);
  const scsi::MutableBytes out = cmd.request.data_in.first(room);
  if (!cdb.evpd) {
    scsi::StandardInquiry inq;
    if (cmd.lu == nullptr) {
      // SPC-4 6.6.2: no LU here: qualifier 011b, device type 1Fh.
      inq.peripheral_qualifier = scsi::kPeripheralQualifierNotSupported;
      inq.peripheral_device_type = scsi::kDeviceTypeUnknown;
    }
    inq.version = 0x06;  // SPC-4
    inq.hisup = true;
    inq.tpgs = s.config.tpgs;
    inq.cmdque = true;
    inq.vendor = s.config.vendor;
    inq.product = s.config.product;
    inq.revision = s.config.revision;
    GoodWithData(cmd.response, scsi::EncodeStandardInquiry(inq, out), room);
    return;
  }
  if (cmd.lu == nullptr) {
    CheckCondition(cmd.response, scsi::SenseSpec{scsi::SenseKey::kIllegalRequest,
                                                 scsi::asc::kLogicalUnitNotSupported, {}, false});
    return;
  }
  bool known = false;
  const std::size_t full = EncodeVpd(s, cmd, cdb.page_code, out, &known);
  if (!known) {
    IllegalField(cmd.response, 0x24, true, 2);  // PAGE CODE (SPC-4 6.6.1)
    return;
  }
  GoodWithData(cmd.response, full, room);
}

void HandleReportLuns(ArrayState& s, Command& cmd, const scsi::ReportLunsCdb& cdb) {
  // Every LU is an ordinary one: SELECT REPORT 01h (well-known LUs only)
  // lists none, the others all (SPC-4 6.33 table 285).
  std::vector<scsi::Lun> luns;
  for (const auto& [lun, lu] : s.lus) {
    if (cdb.select_report == 0x01) break;
    if (auto l = scsi::Lun::FromNumber(static_cast<std::uint16_t>(lun))) luns.push_back(*l);
  }
  const std::size_t room = Room(cmd.request, cdb.allocation_length);
  GoodWithData(cmd.response, scsi::EncodeReportLuns(luns, cmd.request.data_in.first(room)), room);
}

}  // namespace openmpio::array
