// Engine-wide settings: the MPIO timers and counters, and saving the running
// settings to the configuration file.
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "commands.h"
#include "failure.h"
#include "print.h"

namespace openmpio::mpioctl {

void AddTimers(Cli& cli) {
  constexpr std::size_t kTimers = std::size(kTimerNames);
  static const char* kTimerOptions[kTimers] = {"--path-verify-enabled",
                                               "--path-verification-period", "--pdo-remove-period",
                                               "--retry-count", "--retry-interval"};
  auto values = std::make_shared<std::array<std::optional<std::uint32_t>, kTimers>>();
  auto* timers = cli.app.add_subcommand("timers", "MPIO_TIMERS_COUNTERS");
  timers->require_subcommand(1);
  auto* get = timers->add_subcommand("get");
  auto* set = timers->add_subcommand("set");
  for (std::size_t i = 0; i < kTimers; ++i) {
    set->add_option(kTimerOptions[i], (*values)[i], kTimerNames[i]);
  }
  OnChosen(get, cli, [&cli](Client& c) {
    return PrintRead(c.Call({{"method", "MPIO_TIMERS_COUNTERS"}}), cli.as_json, PrintTimers);
  });
  OnChosenSet(set, cli, [values] {
    json set_fields = json::object();
    for (std::size_t i = 0; i < kTimers; ++i) {
      if ((*values)[i]) set_fields[kTimerNames[i]] = *(*values)[i];
    }
    if (set_fields.empty()) throw Failure{"timers set: give at least one of --retry-count ..."};
    return json{{"method", "MPIO_TIMERS_COUNTERS"}, {"Set", set_fields}};
  });
}

void AddConfig(Cli& cli) {
  auto path = std::make_shared<std::string>();
  auto* config = cli.app.add_subcommand("config", "the configuration file");
  config->require_subcommand(1);
  auto* save = config->add_subcommand("save", "write the running settings back");
  save->add_option("--path", *path, "another file");
  OnChosenSet(save, cli, [path] {
    json req = {{"method", "SaveConfig"}};
    if (!path->empty()) req["Path"] = *path;
    return req;
  });
}

}  // namespace openmpio::mpioctl
