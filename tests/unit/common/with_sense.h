// A failed request's Status carrying a target's sense as data (status.h), as
// the engine makes it: for the tests of Status and of the errno table.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "openmpio/status.h"

namespace openmpio::testing {

inline Status WithSense(std::uint8_t key, std::uint8_t asc, std::uint8_t ascq,
                        std::string message = "disk x: failed") {
  Status s(NtStatus::kIoDeviceError, std::move(message));
  s.SetSense(SenseCode{key, asc, ascq});
  return s;
}

}  // namespace openmpio::testing
