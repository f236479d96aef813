// What the engine sees and did: show, why, events. Reads only.
#include <memory>
#include <string>

#include "commands.h"
#include "print.h"

namespace openmpio::mpioctl {

void AddShow(Cli& cli) {
  auto disk = std::make_shared<std::string>();
  auto* show = cli.app.add_subcommand("show", "disks, target port groups, paths and counters");
  show->add_option("disk", *disk, "InstanceName or alias");
  OnChosen(show, cli, [&cli, disk](Client& c) {
    json req = {{"method", "Show"}};
    if (!disk->empty()) req["InstanceName"] = *disk;
    return PrintRead(c.Call(req), cli.as_json, PrintShow);
  });
}

void AddWhy(Cli& cli) {
  auto disk = std::make_shared<std::string>();
  auto* why =
      cli.app.add_subcommand("why", "which paths the policy uses now, and why not the others");
  why->add_option("disk", *disk)->required();
  OnChosen(why, cli, [&cli, disk](Client& c) {
    return PrintRead(c.Call({{"method", "Why"}, {"InstanceName", *disk}}), cli.as_json, PrintWhy);
  });
}

void AddEvents(Cli& cli) {
  auto* events = cli.app.add_subcommand(
      "events", "the engine's recent state changes: paths failed and why, ALUA changes, hedges");
  OnChosen(events, cli, [&cli](Client& c) {
    return PrintRead(c.Call({{"method", "Events"}}), cli.as_json, PrintEvents);
  });
}

}  // namespace openmpio::mpioctl
