// Typed errors of the SCSI decoders. A decoder never reads past its span:
// anything short, lying or reserved is one of these, with the byte offset
// where the problem was seen.
#pragma once

#include <cstddef>
#include <cstdint>

#include "openmpio/expected.h"

namespace openmpio::scsi {

enum class ParseErrc : std::uint8_t {
  kEmpty,              // zero-length buffer
  kTooShort,           // buffer shorter than the fixed part of the format
  kLengthOverflow,     // a length/count field points past the buffer
  kBadResponseCode,    // sense response code / VPD page code not what was asked
  kReservedValue,      // a field holds a value the standard reserves
  kInconsistent,       // fields contradict each other
  kUnsupported,        // well-formed but a format we do not decode
};

const char* ParseErrcName(ParseErrc e) noexcept;

struct ParseError {
  ParseErrc code;
  std::size_t offset;  // byte offset where the problem was detected
  const char* what;    // static text, never owned

  friend bool operator==(const ParseError& a, const ParseError& b) noexcept {
    return a.code == b.code;
  }
};

template <typename T>
using ParseResult = Expected<T, ParseError>;

inline Unexpected<ParseError> Fail(ParseErrc code, std::size_t offset, const char* what) {
  return Unexpected<ParseError>{ParseError{code, offset, what}};
}

}  // namespace openmpio::scsi
