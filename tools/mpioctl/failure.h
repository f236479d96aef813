// How mpioctl ends: its exit codes (main.cpp) and the one exception its
// commands throw when there is no usable answer.
#pragma once

#include <string>

namespace openmpio::mpioctl {

constexpr int kExitOk = 0;
constexpr int kExitStatus = 1;  // the engine answered with a Status other than success
constexpr int kExitUsage = 2;   // a usage error, or no usable answer

// No usable answer (cannot connect, no reply, a reply that is not a status
// object or lacks a field the command reads) or an argument found wrong only
// after parsing: main prints "mpioctl: <what>" on stderr and exits kExitUsage.
struct Failure {
  std::string what;
};

}  // namespace openmpio::mpioctl
