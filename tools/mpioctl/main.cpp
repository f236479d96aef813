// mpioctl: the management CLI of openmpio, a client of the engine's
// management socket only (DESIGN.md "Processes"); it holds no engine state.
// Every command sends JSON requests of src/mgmt/json_api.h, one per line.
//
//   main.cpp        the command line: global options, then each command
//   cmd_*.cpp       the commands by group (commands.h)
//   client.{h,cpp}  the socket: connect, one request and reply, --timeout
//   print.{h,cpp}   the replies as text, and safe access to their fields
//
// Exit codes: 0 success; 1 the engine answered with a Status other than
// STATUS_SUCCESS (printed by name and hex); 2 usage error, or no usable answer
// (cannot connect; no reply within --timeout; the connection closed before or
// in the middle of a reply; a reply over kMaxReplyBytes, not JSON, not a
// status object, or lacking a field the command reads), each said in one
// line on stderr.
#include <chrono>
#include <cmath>
#include <exception>
#include <iostream>
#include <string>
#include <utility>

#include "client.h"
#include "commands.h"
#include "failure.h"
#include "mgmt/server.h"
#include "print.h"

namespace openmpio::mpioctl {

void OnChosen(CLI::App* command, Cli& cli, Action action) {
  command->callback([&cli, action = std::move(action)] { cli.action = action; });
}

void OnChosenSet(CLI::App* command, Cli& cli, std::function<json()> request) {
  OnChosen(command, cli, [&cli, request = std::move(request)](Client& c) {
    return PrintSetResult(c.Call(request()), cli.as_json);
  });
}

namespace {

// Runs the chosen command; every failure ends in one line on stderr.
int Run(const Cli& cli, const std::string& socket_path, double timeout_seconds) {
  try {
    Client client(socket_path, std::chrono::milliseconds(std::llround(timeout_seconds * 1000)));
    return cli.action(client);
  } catch (const Failure& f) {
    std::cerr << "mpioctl: " << f.what << "\n";
    return kExitUsage;
  } catch (const json::exception&) {
    // A field this command reads, in another type than it expects: say so,
    // not the library's text.
    std::cerr << "mpioctl: the engine's reply lacks a field this command reads, or has it in "
                 "another type\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "mpioctl: " << e.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace
}  // namespace openmpio::mpioctl

int main(int argc, char** argv) {
  using namespace openmpio::mpioctl;
  Cli cli;
  CLI::App& app = cli.app;
  app.require_subcommand(1);
  app.fallthrough();
  std::string socket_path = openmpio::mgmt::DefaultSocketPath();
  double timeout_seconds = kDefaultTimeoutSeconds;
  app.add_option("--socket", socket_path, "management socket path")->capture_default_str();
  app.add_option("--timeout", timeout_seconds, "seconds to wait for each reply of the engine")
      ->check(CLI::Range(kMinTimeoutSeconds, kMaxTimeoutSeconds))
      ->capture_default_str();
  app.add_flag("--json", cli.as_json, "print the engine's JSON reply");

  // In the order `--help` lists them.
  AddShow(cli);
  AddPolicy(cli);
  AddDefaultPolicy(cli);
  AddTimers(cli);
  AddStats(cli);
  AddWhy(cli);
  AddEvents(cli);
  AddSim(cli);
  AddConfig(cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (!cli.action) return kExitUsage;
  // CLI::Range lets NaN through.
  if (!std::isfinite(timeout_seconds) || timeout_seconds < kMinTimeoutSeconds ||
      timeout_seconds > kMaxTimeoutSeconds) {
    std::cerr << "mpioctl: --timeout: not a number of seconds in [" << kMinTimeoutSeconds << ", "
              << kMaxTimeoutSeconds << "]\n";
    return kExitUsage;
  }
  return Run(cli, socket_path, timeout_seconds);
}
