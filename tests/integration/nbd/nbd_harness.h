// Helpers of the serving tests: a temp folder that removes itself, a child
// process stopped by PID, a shell command with a time bound and its output,
// and an nbdkit server running our plugin on a unix socket in the temp folder.
// Nothing outlives the test: servers get --exit-with-parent, and every
// destructor stops what it started (SIGTERM, bounded wait, then SIGKILL).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace openmpio::nbdtest {

inline const std::string kPlugin =
    std::string(OPENMPIO_BINARY_DIR) + "/plugins/nbdkit/nbdkit-openmpio-plugin.so";

// The designators the sim array gives LU 0 and LU 1 (NAA 6, company id
// 0x0A0B0C of ArrayConfig, vendor-specific part from the target name + LUN).
inline const std::string kLu0 = "naa.60a0b0cfd3763cbb0000000000000000";
inline const std::string kLu1 = "naa.60a0b0cfd3763cbb0000000000000001";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "openmpio-nbd-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline bool HaveProgram(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Skips the test (not a failure) on a machine without the program.
#define REQUIRE_PROGRAM(name)                                            \
  do {                                                                   \
    if (!HaveProgram(name)) GTEST_SKIP() << name << " is not installed"; \
  } while (0)

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// sh -c CMD under `timeout`, output captured.
inline RunResult Sh(const std::string& cmd, int timeout_s = 50) {
  RunResult r;
  const std::string full =
      "timeout -k 5 " + std::to_string(timeout_s) + " sh -c '" + cmd + "' 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A child process (execvp of argv), stopped by PID.
class Process {
 public:
  explicit Process(const std::vector<std::string>& argv, const std::string& log_path) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Process() { Stop(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Still running?
  bool Running() {
    if (pid_ <= 0) return false;
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exit_status_ = st;
      pid_ = -1;
      return false;
    }
    return true;
  }
  // Waits up to `limit` for the process to exit by itself.
  bool WaitExit(std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (Running()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  // SIGTERM, up to 10 s, then SIGKILL. True if it ended on SIGTERM.
  bool Stop() {
    if (!Running()) return true;
    ::kill(pid_, SIGTERM);
    if (WaitExit(std::chrono::seconds(10))) return true;
    ::kill(pid_, SIGKILL);
    WaitExit(std::chrono::seconds(5));
    return false;
  }
  [[nodiscard]] int exit_status() const { return exit_status_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

// Pieces of the test configs (config/config.h's TOML): one [[sim.port]] or
// [[sim.lu]] table, and the [[disk]] that names LU 0 "alpha".
inline std::string SimPort(unsigned relative_target_port, unsigned target_port_group) {
  return "[[sim.port]]\nrelative_target_port = " + std::to_string(relative_target_port) +
         "\ntarget_port_group = " + std::to_string(target_port_group) + "\n";
}
inline std::string SimLu(unsigned lun, const std::string& size, unsigned owner_group) {
  return "[[sim.lu]]\nlun = " + std::to_string(lun) + "\nsize = \"" + size +
         "\"\nowner_group = " + std::to_string(owner_group) + "\n";
}
inline std::string AlphaDisk() {
  return "[[disk]]\ndesignator = \"" + kLu0 + "\"\nalias = \"alpha\"\n";
}

// Two target port groups: ports 1, 2 in group 1, port 3 in group 2; LU 0
// (64 MiB, alias "alpha") owned by group 1, LU 1 (32 MiB, no alias) by group 2.
inline std::string SmallConfig() {
  return "[management]\nenabled = false\n\n[timers]\ncommand_timeout = 5\n\n[sim]\n" +
         SimPort(1, 1) + SimPort(2, 1) + SimPort(3, 2) + "\n" + SimLu(0, "64MiB", 1) + "\n" +
         SimLu(1, "32MiB", 2) + "\n" + AlphaDisk();
}

// nbdkit with our plugin on DIR/sock (foreground child, --exit-with-parent).
class Server {
 public:
  // nbdkit_opts go before the plugin (e.g. "-v"), params after config=.
  explicit Server(const TempDir& dir, const std::string& config_text = SmallConfig(),
                  const std::vector<std::string>& nbdkit_opts = {},
                  const std::vector<std::string>& params = {})
      : dir_(dir) {
    WriteFile(dir / "openmpio.toml", config_text);
    sock_ = dir / "sock";
    std::vector<std::string> argv{"nbdkit", "-f", "--exit-with-parent", "-U",
                                  sock_,    "-P", dir / "nbdkit.pid"};
    argv.insert(argv.end(), nbdkit_opts.begin(), nbdkit_opts.end());
    argv.push_back(kPlugin);
    argv.push_back("config=" + (dir / "openmpio.toml"));
    argv.insert(argv.end(), params.begin(), params.end());
    proc_ = std::make_unique<Process>(argv, dir / "nbdkit.log");
    // The pid file is written once nbdkit listens (after .after_fork).
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < end && proc_->Running()) {
      struct stat st {};
      if (::stat((dir / "nbdkit.pid").c_str(), &st) == 0 && st.st_size > 0) {
        ready_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~Server() { Stop(); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  bool Stop() { return proc_->Stop(); }
  [[nodiscard]] bool ready() const { return ready_; }
  [[nodiscard]] const std::string& socket() const { return sock_; }
  [[nodiscard]] std::string Uri(const std::string& export_name) const {
    return "nbd+unix:///" + export_name + "?socket=" + sock_;
  }
  [[nodiscard]] std::string Log() const { return ReadFile(dir_ / "nbdkit.log"); }
  Process& process() { return *proc_; }

 private:
  const TempDir& dir_;
  std::string sock_;
  std::unique_ptr<Process> proc_;
  bool ready_ = false;
};

}  // namespace openmpio::nbdtest
