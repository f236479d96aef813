// stats: MSDSM_DEVICE_PERF per path, once or refreshed (--watch), or cleared.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "failure.h"
#include "print.h"

namespace openmpio::mpioctl {

// stats [DISK] [--watch [S] [--count N]] [--clear]
// --watch repeats every S seconds (default 2) until interrupted, or N times
// with --count. Text: each refresh starts with "-- refresh K". --json with
// --watch: one compact JSON document per refresh, one per line (JSON Lines),
// each the same shape as one `stats --json` reply, so a reader parses line
// by line; without --watch --json prints one indented document as ever.
void AddStats(Cli& cli) {
  struct Args {
    std::string disk;
    double watch = 0;
    std::uint32_t refreshes = 0;
    bool clear = false;
  };
  auto a = std::make_shared<Args>();
  auto* stats = cli.app.add_subcommand("stats", "MSDSM_DEVICE_PERF per path");
  stats->add_option("disk", a->disk);
  auto* watch_opt =
      stats
          ->add_option("--watch", a->watch,
                       "repeat every S seconds; with --json one JSON document per line")
          ->expected(0, 1)
          ->default_str("2");
  stats->add_option("--count", a->refreshes, "with --watch: stop after N refreshes")
      ->needs(watch_opt)
      ->check(CLI::PositiveNumber);
  stats->add_flag("--clear", a->clear, "MSDsmClearCounters")->excludes(watch_opt);
  OnChosen(stats, cli, [&cli, a, stats](Client& c) {
    const bool as_json = cli.as_json;
    const bool watching = stats->count("--watch") > 0;
    if (watching && a->watch <= 0) a->watch = 2;
    std::vector<std::string> names;
    if (!a->disk.empty()) {
      names.push_back(a->disk);
    } else {
      const json l = c.Call({{"method", "ListDisks"}});
      if (StatusCode(l) != 0) return ReadFailed(l, as_json);
      for (const json& d : List(l, "Disks")) {
        names.push_back(Field(d, "InstanceName").get<std::string>());
      }
    }
    if (a->clear) {
      int rc = kExitOk;
      for (const std::string& n : names) {
        const json r = c.Call({{"method", "MSDsmClearCounters"}, {"InstanceName", n}});
        if (PrintSetResult(r, as_json) != kExitOk) rc = kExitStatus;
      }
      return rc;
    }
    for (std::uint32_t done = 1;; ++done) {
      if (watching && !as_json) std::cout << "-- refresh " << done << "\n";
      json all = json::array();
      for (const std::string& n : names) {
        const json r = c.Call({{"method", "MSDSM_DEVICE_PERF"}, {"InstanceName", n}});
        if (StatusCode(r) != 0) return ReadFailed(r, as_json);
        if (as_json) {
          all.push_back(r);
          continue;
        }
        // Retries and service times are openmpio's, beside the MSDSM class.
        PrintPerf(n, r, c.Call({{"method", "Show"}, {"InstanceName", n}}));
      }
      if (as_json) {
        const json& doc = names.size() == 1 ? all[0] : all;
        std::cout << (watching ? doc.dump() : doc.dump(2)) << "\n";
      }
      std::cout.flush();
      if (!watching || (a->refreshes != 0 && done >= a->refreshes)) return kExitOk;
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(a->watch * 1000)));
    }
  });
}

}  // namespace openmpio::mpioctl
