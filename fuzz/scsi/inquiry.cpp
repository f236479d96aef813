// Fuzz target: standard INQUIRY data and the INQUIRY CDB (the array parses
// CDBs from initiators) on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "scsi/inquiry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto b = std::as_bytes(std::span(data, size));
  auto inq = openmpio::scsi::ParseStandardInquiry(b);
  if (inq.has_value()) {
    if (size < openmpio::scsi::kStandardInquiryMinLength) std::abort();
    if (inq->claimed_length != data[4] + 5u) std::abort();
    if (inq->vendor.size() > 8 || inq->product.size() > 16 || inq->revision.size() > 4)
      std::abort();
    // Encoding the decoded value and decoding again is stable for the flags.
    std::byte out[36];
    (void)EncodeStandardInquiry(*inq, out);
    auto again = openmpio::scsi::ParseStandardInquiry(out);
    if (!again.has_value() || again->tpgs != inq->tpgs ||
        again->peripheral_device_type != inq->peripheral_device_type) {
      std::abort();
    }
  }
  auto cdb = openmpio::scsi::ParseInquiryCdb(b);
  if (cdb.has_value() && !cdb->evpd && cdb->page_code != 0) std::abort();
  return 0;
}
