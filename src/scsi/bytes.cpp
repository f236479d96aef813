#include "scsi/bytes.h"

#include <algorithm>
#include <cstring>

#include "scsi/parse_error.h"

namespace openmpio::scsi {

std::string TrimmedAscii(Bytes b) {
  std::size_t end = b.size();
  while (end > 0) {
    const auto c = U8(b, end - 1);
    if (c != ' ' && c != 0) break;
    --end;
  }
  std::string s;
  s.reserve(end);
  for (std::size_t i = 0; i < end; ++i) {
    const auto c = U8(b, i);
    // Non-printable bytes would corrupt logs and JSON; show them as '?'.
    s.push_back((c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?');
  }
  return s;
}

std::size_t CopyTruncated(Bytes full, MutableBytes out) {
  const std::size_t n = std::min(full.size(), out.size());
  if (n != 0) std::memcpy(out.data(), full.data(), n);
  return full.size();
}

const char* ParseErrcName(ParseErrc e) noexcept {
  switch (e) {
    case ParseErrc::kEmpty: return "empty";
    case ParseErrc::kTooShort: return "too short";
    case ParseErrc::kLengthOverflow: return "length overflow";
    case ParseErrc::kBadResponseCode: return "bad response code";
    case ParseErrc::kReservedValue: return "reserved value";
    case ParseErrc::kInconsistent: return "inconsistent";
    case ParseErrc::kUnsupported: return "unsupported";
  }
  return "unknown";
}

}  // namespace openmpio::scsi
