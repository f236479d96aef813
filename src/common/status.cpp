#include "openmpio/status.h"

#include <array>
#include <cstdio>

namespace openmpio {
namespace {

struct StatusName {
  std::uint32_t code;
  const char* name;
};

constexpr std::array kNames{
    StatusName{0x00000000, "STATUS_SUCCESS"},
    StatusName{0xC000000D, "STATUS_INVALID_PARAMETER"},
    StatusName{0xC000000E, "STATUS_NO_SUCH_DEVICE"},
    StatusName{0xC0000010, "STATUS_INVALID_DEVICE_REQUEST"},
    StatusName{0xC0000023, "STATUS_BUFFER_TOO_SMALL"},
    StatusName{0xC0000034, "STATUS_OBJECT_NAME_NOT_FOUND"},
    StatusName{0xC000009A, "STATUS_INSUFFICIENT_RESOURCES"},
    StatusName{0xC00000A3, "STATUS_DEVICE_NOT_READY"},
    StatusName{0xC00000B5, "STATUS_IO_TIMEOUT"},
    StatusName{0xC00000BB, "STATUS_NOT_SUPPORTED"},
    StatusName{0xC0000185, "STATUS_IO_DEVICE_ERROR"},
    StatusName{0xC0000295, "STATUS_WMI_GUID_NOT_FOUND"},
    StatusName{0xC0000296, "STATUS_WMI_INSTANCE_NOT_FOUND"},
    StatusName{0xC0000297, "STATUS_WMI_ITEMID_NOT_FOUND"},
};

}  // namespace

const char* NtStatusName(std::uint32_t code) noexcept {
  for (const auto& n : kNames) {
    if (n.code == code) return n.name;
  }
  return nullptr;
}

bool NtStatusFromName(std::string_view name, std::uint32_t* code) noexcept {
  for (const auto& n : kNames) {
    if (name == n.name) {
      *code = n.code;
      return true;
    }
  }
  return false;
}

std::string Status::Name() const {
  if (const char* n = NtStatusName(code_)) return n;
  char buf[32];
  std::snprintf(buf, sizeof buf, "NTSTATUS_0x%08X", code_);
  return buf;
}

std::string Status::ToString() const {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", code_);
  std::string s = Name() + " (" + hex + ")";
  if (!message_.empty()) s += ": " + message_;
  return s;
}

}  // namespace openmpio
