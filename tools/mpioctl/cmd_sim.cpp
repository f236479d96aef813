// sim: control the embedded array (SimControl), for the demo and the tests:
// port faults, ALUA states, read corruption and the LU inventory.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"

namespace openmpio::mpioctl {

void AddSim(Cli& cli) {
  struct Args {
    std::uint32_t port = 0, tpg = 0, owner = 0;
    std::uint64_t lun = 0, first_lba = 0, block_count = 0;
    std::string state;
    bool thick = false;
  };
  auto a = std::make_shared<Args>();
  auto* sim = cli.app.add_subcommand("sim", "control the embedded array (demo, tests)");
  sim->require_subcommand(1);
  // A SimControl request: `action` and its `fields`.
  auto request = [](const char* action, json fields = json::object()) {
    fields["method"] = "SimControl";
    fields["Action"] = action;
    return fields;
  };

  for (const auto& [name, action] : std::vector<std::pair<const char*, const char*>>{
           {"fail-port", "FailPort"}, {"hang-port", "HangPort"}, {"restore-port", "RestorePort"}}) {
    auto* sc = sim->add_subcommand(name, std::string(action) + " a target port");
    sc->add_option("port", a->port, "relative target port")->required();
    OnChosenSet(sc, cli, [a, request, action = action] {
      return request(action, {{"TargetPort_Identifier", a->port}});
    });
  }

  auto* set_state =
      sim->add_subcommand("set-state", "set the ALUA state of (LU, target port group)");
  set_state->add_option("lun", a->lun)->required();
  set_state->add_option("tpg", a->tpg)->required();
  set_state
      ->add_option("state", a->state,
                   "AO AN SB UA LBD Offline (the change passes through Transitioning)")
      ->required();
  OnChosenSet(set_state, cli, [a, request] {
    return request("SetState",
                   {{"LUN", a->lun}, {"TargetPortGroup_Identifier", a->tpg}, {"State", a->state}});
  });

  auto* corrupt = sim->add_subcommand(
      "corrupt-read", "every READ of the LU's blocks [lba, lba+count) returns them damaged");
  corrupt->add_option("lun", a->lun)->required();
  corrupt->add_option("lba", a->first_lba, "first logical block")->required();
  corrupt->add_option("count", a->block_count, "blocks (at least 1)")->required();
  OnChosenSet(corrupt, cli, [a, request] {
    return request("CorruptRead",
                   {{"LUN", a->lun}, {"FirstLBA", a->first_lba}, {"BlockCount", a->block_count}});
  });

  // The LU inventory (the engine follows through UA 3F/0E and 2A/09).
  auto* add = sim->add_subcommand("add-lu", "a new LU of BLOCKS 512-byte blocks");
  add->add_option("lun", a->lun)->required();
  add->add_option("blocks", a->block_count, "capacity in 512-byte blocks (at least 1)")->required();
  add->add_option("--owner", a->owner,
                  "the target port group it is A/O through (default: the first)");
  add->add_flag("--thick", a->thick, "fully provisioned: no UNMAP");
  OnChosenSet(add, cli, [a, request] {
    json req = request("AddLu", {{"LUN", a->lun},
                                 {"BlockCount", a->block_count},
                                 {"Provisioning", a->thick ? "thick" : "thin"}});
    if (a->owner != 0) req["OwnerGroup"] = a->owner;
    return req;
  });

  auto* remove = sim->add_subcommand("remove-lu", "the LU leaves the array, with its data");
  remove->add_option("lun", a->lun)->required();
  OnChosenSet(remove, cli, [a, request] { return request("RemoveLu", {{"LUN", a->lun}}); });

  auto* resize = sim->add_subcommand("resize-lu", "the LU's new capacity in its blocks");
  resize->add_option("lun", a->lun)->required();
  resize->add_option("blocks", a->block_count, "capacity in blocks (at least 1)")->required();
  OnChosenSet(resize, cli, [a, request] {
    return request("ResizeLu", {{"LUN", a->lun}, {"BlockCount", a->block_count}});
  });

  auto* clear = sim->add_subcommand("clear-faults", "remove every array fault (corrupt-read)");
  OnChosenSet(clear, cli, [request] { return request("ClearFaults"); });
}

}  // namespace openmpio::mpioctl
