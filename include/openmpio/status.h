// Status: one NTSTATUS value plus a human message.
//
// The numeric values are the ones Windows uses (ntstatus.h), so a Status read
// from openmpio means what it means to a person who knows MSDSM. A bare code
// is one word and never allocates; only a message does.
//
// An I/O error the target answered also carries that answer as data: the
// sense key / ASC / ASCQ of a CHECK CONDITION (SPC-4 4.5), or the fact that
// the status was RESERVATION CONFLICT. Code that decides by it (the errno
// table at the nbdkit edge) reads the data; the message says the same for
// people and is never parsed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace openmpio {

// NTSTATUS values used by openmpio (spec/msdsm.md §4 table, plus the two
// I/O codes the engine reports). Use the most specific one that fits.
enum class NtStatus : std::uint32_t {
  kSuccess = 0x00000000,                // STATUS_SUCCESS
  kInvalidParameter = 0xC000000D,       // bad input of any kind (MSDSM's "INVALID")
  kNoSuchDevice = 0xC000000E,           // [C] unknown LUN / disk
  kInvalidDeviceRequest = 0xC0000010,   // [C] LUN not managed by us
  kBufferTooSmall = 0xC0000023,         // an input or output buffer is short
  kObjectNameNotFound = 0xC0000034,     // no default policy stored
  kInsufficientResources = 0xC000009A,  // allocation failure
  kDeviceNotReady = 0xC00000A3,         // no usable path (yet)
  kIoTimeout = 0xC00000B5,              // a request timed out
  kNotSupported = 0xC00000BB,           // Version > 2, unsupported operation
  kIoDeviceError = 0xC0000185,          // [C] STPG/RTPG or media failure, no better code
  kWmiGuidNotFound = 0xC0000295,        // unknown class
  kWmiInstanceNotFound = 0xC0000296,    // unknown instance
  kWmiItemIdNotFound = 0xC0000297,      // unknown method id
};

// "STATUS_INVALID_PARAMETER" for a known code, nullptr for an unknown one.
const char* NtStatusName(std::uint32_t code) noexcept;
// The code for a name such as "STATUS_INVALID_PARAMETER"; false if unknown.
bool NtStatusFromName(std::string_view name, std::uint32_t* code) noexcept;

// The sense of a CHECK CONDITION: SENSE KEY (4 bits), ADDITIONAL SENSE CODE
// and ADDITIONAL SENSE CODE QUALIFIER (SPC-4 4.5.6), as the target sent them.
struct SenseCode {
  std::uint8_t key = 0;
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
  friend bool operator==(const SenseCode&, const SenseCode&) = default;
};

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // STATUS_SUCCESS
  explicit Status(NtStatus code) noexcept : code_(static_cast<std::uint32_t>(code)) {}
  Status(NtStatus code, std::string message)
      : code_(static_cast<std::uint32_t>(code)), message_(std::move(message)) {}
  // A raw NTSTATUS, e.g. one decoded from a buffer.
  static Status FromCode(std::uint32_t code, std::string message = {}) {
    Status s;
    s.code_ = code;
    s.message_ = std::move(message);
    return s;
  }

  [[nodiscard]] bool ok() const noexcept { return code_ == 0; }
  [[nodiscard]] std::uint32_t code() const noexcept { return code_; }
  [[nodiscard]] NtStatus nt() const noexcept { return static_cast<NtStatus>(code_); }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  [[nodiscard]] bool Is(NtStatus code) const noexcept {
    return code_ == static_cast<std::uint32_t>(code);
  }

  // The target's answer behind this status, when it was a CHECK CONDITION
  // with sense data the engine could parse. Copies and moves keep it.
  [[nodiscard]] std::optional<SenseCode> sense() const noexcept {
    if ((detail_ & kHasSense) == 0) return std::nullopt;
    return sense_;
  }
  // The target answered RESERVATION CONFLICT (SAM-5 5.3.1).
  [[nodiscard]] bool reservation_conflict() const noexcept {
    return (detail_ & kReservationConflict) != 0;
  }
  Status& SetSense(SenseCode sense) noexcept {
    sense_ = sense;
    detail_ |= kHasSense;
    return *this;
  }
  Status& SetReservationConflict() noexcept {
    detail_ |= kReservationConflict;
    return *this;
  }

  // "STATUS_INVALID_PARAMETER", or "NTSTATUS_0x12345678" for unknown codes.
  [[nodiscard]] std::string Name() const;
  // "STATUS_INVALID_PARAMETER (0xC000000D)" and ": message" when there is one.
  [[nodiscard]] std::string ToString() const;

  // Dropping an error on purpose is spelled out.
  void IgnoreError() const noexcept {}

  // The code only: the message and the target's answer are detail.
  friend bool operator==(const Status& a, const Status& b) noexcept { return a.code_ == b.code_; }

 private:
  static constexpr std::uint8_t kHasSense = 0x01;
  static constexpr std::uint8_t kReservationConflict = 0x02;

  // code_, sense_ and detail_ fill one 8-byte word: the sense costs no size.
  std::uint32_t code_ = 0;
  SenseCode sense_;
  std::uint8_t detail_ = 0;  // kHasSense | kReservationConflict
  std::string message_;
};

inline Status OkStatus() noexcept { return Status(); }
inline Status InvalidParameter(std::string message) {
  return Status(NtStatus::kInvalidParameter, std::move(message));
}
inline Status BufferTooSmall(std::string message) {
  return Status(NtStatus::kBufferTooSmall, std::move(message));
}

}  // namespace openmpio
