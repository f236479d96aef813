// Running the built mpioctl (tools/mpioctl) from a test: where it is, and a
// shell command's exit code and standard output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

namespace openmpio::mgmt::testing {

inline std::string MpioctlPath() {
#ifdef OPENMPIO_MPIOCTL_PATH
  return OPENMPIO_MPIOCTL_PATH;
#else
  // build/<dir>/tests/unit_mgmt -> build/<dir>/tools/mpioctl/mpioctl
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return (exe.parent_path().parent_path() / "tools" / "mpioctl" / "mpioctl").string();
#endif
}

struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string out;
};

// Runs `cmd` through the shell and captures its standard output.
inline CommandResult RunShell(const std::string& cmd) {
  CommandResult r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace openmpio::mgmt::testing
