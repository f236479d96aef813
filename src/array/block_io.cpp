// Media access: READ/WRITE(16), WRITE SAME(16), UNMAP, SYNCHRONIZE CACHE(16)
// (SBC-3 5.13, 5.40, 5.45, 5.28, 5.23), READ CAPACITY(16) (SBC-3 5.16) and
// MODE SENSE(10) for the caching page (SBC-3 6.4.5).
#include <algorithm>
#include <vector>

#include "array/array_state.h"
#include "scsi/mode_sense.h"
#include "scsi/read_capacity.h"
#include "scsi/unmap.h"

namespace openmpio::array {
namespace {

constexpr std::uint16_t kLengthField = 10;  // bytes 10..13

void Sense(Command& cmd, scsi::SenseKey key, scsi::AscAscq code) {
  CheckCondition(cmd.response, scsi::SenseSpec{key, code, {}, false});
}

// SBC-3 4.5: [lba, lba + n) must lie inside the medium; else 21/00 (tgt
// answers it without INFORMATION, tests/data/captures/tgt/read16_past_end).
bool InRange(Command& cmd, std::uint64_t lba, std::uint64_t n) {
  const std::uint64_t blocks = cmd.lu->blocks;
  if (lba > blocks || n > blocks - lba) {
    Sense(cmd, scsi::SenseKey::kIllegalRequest, scsi::asc::kLbaOutOfRange);
    return false;
  }
  return true;
}

PortCounters& CountersOf(ArrayState& s, const Command& cmd) { return s.ports.at(cmd.port).counters; }

void MediaError(Command& cmd, bool write) {
  // 03/11/00 UNRECOVERED READ ERROR, 03/0C/00 WRITE ERROR.
  Sense(cmd, scsi::SenseKey::kMediumError, write ? scsi::AscAscq{0x0C, 0x00} : scsi::AscAscq{0x11, 0x00});
}

bool AllZero(scsi::Bytes b) {
  return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0}; });
}

}  // namespace

void HandleRead(ArrayState& s, Command& cmd, const scsi::Read16Cdb& cdb) {
  if (cdb.protect != 0) return IllegalField(cmd.response, 0x24, true, 1);  // no PI
  if (s.config.maximum_transfer_length != 0 &&
      cdb.transfer_length > s.config.maximum_transfer_length) {
    return IllegalField(cmd.response, 0x24, true, kLengthField);  // SBC-3 6.6.4
  }
  if (!InRange(cmd, cdb.lba, cdb.transfer_length)) return;
  const std::uint64_t bytes = std::uint64_t{cdb.transfer_length} * cmd.lu->config.block_size;
  // The transport sizes data-in to the expected transfer; a smaller buffer is
  // a caller bug, answered as a bad transfer length rather than a short read.
  if (cmd.request.data_in.size() < bytes) return IllegalField(cmd.response, 0x24, true, kLengthField);
  const scsi::MutableBytes out = cmd.request.data_in.first(static_cast<std::size_t>(bytes));
  if (!cmd.lu->cache.Read(*cmd.lu->store, cdb.lba, out).ok()) return MediaError(cmd, false);
  CorruptRead(s, cmd, cdb.lba, out);
  PortCounters& c = CountersOf(s, cmd);
  ++c.reads;
  c.bytes_read += bytes;
  GoodWithData(cmd.response, out.size(), out.size());
}

void HandleWrite(ArrayState& s, Command& cmd, const scsi::Write16Cdb& cdb) {
  if (cdb.protect != 0) return IllegalField(cmd.response, 0x24, true, 1);
  if (s.config.maximum_transfer_length != 0 &&
      cdb.transfer_length > s.config.maximum_transfer_length) {
    return IllegalField(cmd.response, 0x24, true, kLengthField);
  }
  if (!InRange(cmd, cdb.lba, cdb.transfer_length)) return;
  const std::uint64_t bytes = std::uint64_t{cdb.transfer_length} * cmd.lu->config.block_size;
  if (cmd.request.data_out.size() < bytes) return IllegalField(cmd.response, 0x24, true, kLengthField);
  const scsi::Bytes data = cmd.request.data_out.first(static_cast<std::size_t>(bytes));
  if (!cmd.lu->cache.Write(*cmd.lu->store, cdb.lba, data, cdb.fua).ok()) return MediaError(cmd, true);
  PortCounters& c = CountersOf(s, cmd);
  ++c.writes;
  c.bytes_written += bytes;
  GoodWithData(cmd.response, 0, 0);
}

void HandleWriteSame(ArrayState& s, Command& cmd, const scsi::WriteSame16Cdb& cdb) {
  LuState& lu = *cmd.lu;
  if (cdb.protect != 0) return IllegalField(cmd.response, 0x24, true, 1);
  // SBC-3 5.45: UNMAP needs LBPWS; ANCHOR is not supported (ANC_SUP = 0).
  if ((cdb.unmap && !lu.config.thin) || cdb.anchor) return IllegalField(cmd.response, 0x24, true, 1);
  if (!InRange(cmd, cdb.lba, 0)) return;
  const std::uint64_t n = cdb.number_of_blocks == 0 ? lu.blocks - cdb.lba : cdb.number_of_blocks;
  if (s.config.maximum_unmap_lba_count != 0 && n > s.config.maximum_unmap_lba_count) {
    return IllegalField(cmd.response, 0x24, true, kLengthField);  // MAXIMUM WRITE SAME LENGTH
  }
  if (!InRange(cmd, cdb.lba, n)) return;
  const std::uint32_t bs = lu.config.block_size;
  std::vector<std::byte> block(bs);
  if (!cdb.ndob) {
    if (cmd.request.data_out.size() < bs) return IllegalField(cmd.response, 0x24, true, kLengthField);
    std::copy_n(cmd.request.data_out.begin(), bs, block.begin());
  }
  // With UNMAP and a block of zeros, unmapping is the same as writing (LBPRZ);
  // a non-zero block must be written, as SBC-3 5.45 allows.
  if (cdb.unmap && AllZero(block)) {
    if (!lu.cache.Deallocate(*lu.store, cdb.lba, n).ok()) return MediaError(cmd, true);
    return GoodWithData(cmd.response, 0, 0);
  }
  constexpr std::uint64_t kBatch = 256;  // blocks per store write
  std::vector<std::byte> batch;
  batch.reserve(static_cast<std::size_t>(std::min(n, kBatch)) * bs);
  for (std::uint64_t i = 0; i < std::min(n, kBatch); ++i) batch.insert(batch.end(), block.begin(), block.end());
  for (std::uint64_t done = 0; done < n;) {
    const std::uint64_t k = std::min(kBatch, n - done);
    const scsi::Bytes data = scsi::Bytes{batch}.first(static_cast<std::size_t>(k * bs));
    if (!lu.cache.Write(*lu.store, cdb.lba + done, data, false).ok()) return MediaError(cmd, true);
    done += k;
  }
  PortCounters& c = CountersOf(s, cmd);
  ++c.writes;
  c.bytes_written += bs;
  GoodWithData(cmd.response, 0, 0);
}

void HandleUnmap(ArrayState& s, Command& cmd, const scsi::UnmapCdb& cdb) {
  LuState& lu = *cmd.lu;
  // SBC-3 5.28: a LU without LBPU does not support UNMAP at all.
  if (!lu.config.thin) {
    return IllegalRequest(cmd.response, {0x20, 0x00, true, 0});
  }
  if (cdb.anchor) return IllegalField(cmd.response, 0x24, true, 1);
  if (cdb.parameter_list_length == 0) return GoodWithData(cmd.response, 0, 0);
  if (cmd.request.data_out.size() < cdb.parameter_list_length) {
    return Sense(cmd, scsi::SenseKey::kIllegalRequest, {0x1A, 0x00});
  }
  const auto list =
      scsi::ParseUnmapParameterList(cmd.request.data_out.first(cdb.parameter_list_length));
  if (!list) {
    return IllegalRequest(cmd.response,
                          scsi::IllegalRequestFor(list.error(), scsi::ErrorSource::kParameterList));
  }
  if (s.config.maximum_unmap_descriptor_count != 0 &&
      list->size() > s.config.maximum_unmap_descriptor_count) {
    return IllegalField(cmd.response, 0x26, false, 2);  // BLOCK DESCRIPTOR DATA LENGTH
  }
  // Check every descriptor first (SBC-3 5.28.1): nothing is unmapped when one is bad.
  for (std::size_t i = 0; i < list->size(); ++i) {
    const scsi::UnmapBlockDescriptor& d = (*list)[i];
    if (s.config.maximum_unmap_lba_count != 0 &&
        d.number_of_blocks > s.config.maximum_unmap_lba_count) {
      return IllegalField(cmd.response, 0x26, false,
                          static_cast<std::uint16_t>(scsi::kUnmapHeaderLength +
                                                     i * scsi::kUnmapBlockDescriptorLength + 8));
    }
    if (!InRange(cmd, d.lba, d.number_of_blocks)) return;
  }
  for (const scsi::UnmapBlockDescriptor& d : *list) {
    if (!lu.cache.Deallocate(*lu.store, d.lba, d.number_of_blocks).ok()) return MediaError(cmd, true);
  }
  GoodWithData(cmd.response, 0, 0);
}

void HandleSynchronizeCache(ArrayState&, Command& cmd, const scsi::SynchronizeCache16Cdb& cdb) {
  LuState& lu = *cmd.lu;
  if (!InRange(cmd, cdb.lba, 0)) return;
  const std::uint64_t n = cdb.number_of_blocks == 0 ? lu.blocks - cdb.lba : cdb.number_of_blocks;
  if (!InRange(cmd, cdb.lba, n)) return;
  if (!lu.cache.Flush(*lu.store, cdb.lba, n).ok()) return MediaError(cmd, true);
  GoodWithData(cmd.response, 0, 0);
}

void HandleReadCapacity(ArrayState&, Command& cmd, const scsi::ReadCapacity16Cdb& cdb) {
  scsi::ReadCapacity16Data d;  // SBC-3 5.16.2 table 66
  d.last_lba = cmd.lu->blocks - 1;
  d.block_length = cmd.lu->config.block_size;
  d.lbpme = cmd.lu->config.thin;
  d.lbprz = cmd.lu->config.thin;
  const std::size_t room = Room(cmd.request, cdb.allocation_length);
  GoodWithData(cmd.response, scsi::EncodeReadCapacity16(d, cmd.request.data_in.first(room)), room);
}

void HandleModeSense(ArrayState&, Command& cmd, const scsi::ModeSense10Cdb& cdb) {
  if (cdb.page_code != scsi::kCachingModePage && cdb.page_code != scsi::kAllModePages) {
    return IllegalField(cmd.response, 0x24, true, 2);
  }
  if (cdb.subpage_code != 0 && cdb.subpage_code != 0xFF) return IllegalField(cmd.response, 0x24, true, 3);
  if (cdb.pc == scsi::ModePageControl::kSaved) {
    // SPC-4 6.12: no saved pages: 05/39/00 SAVING PARAMETERS NOT SUPPORTED.
    return Sense(cmd, scsi::SenseKey::kIllegalRequest, {0x39, 0x00});
  }
  scsi::ModeSense10Data d;
  d.header.dpofua = true;  // SBC-3 6.4.1: FUA honoured
  // Changeable values: nothing is (no MODE SELECT), so every bit is 0.
  d.caching = scsi::CachingModePage{
      cdb.pc != scsi::ModePageControl::kChangeable && cmd.lu->cache.enabled(), false};
  const std::size_t room = Room(cmd.request, cdb.allocation_length);
  GoodWithData(cmd.response, scsi::EncodeModeSense10(d, cmd.request.data_in.first(room)), room);
}

}  // namespace openmpio::array
