// The commands of mpioctl. main.cpp builds the command line from one
// registration function per top-level command, in the order `--help` lists
// them; the cmd_*.cpp files hold them by group.
//
// A registration adds its subcommands to `cli.app`. The callback of the one
// the user chose sets `cli.action`, which main runs against the engine once
// the whole line is parsed. CLI11 binds option values by reference: each
// registration keeps them in a struct that its callbacks own (a shared_ptr
// captured by them), so they live as long as the App.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>

#include "client.h"

namespace openmpio::mpioctl {

using Action = std::function<int(Client&)>;

struct Cli {
  CLI::App app{"mpioctl: manage openmpio over its management socket"};
  Action action;         // the chosen command's; empty until one is chosen
  bool as_json = false;  // --json: print the engine's JSON reply
};

// `action` becomes what runs when the user chooses `command`.
void OnChosen(CLI::App* command, Cli& cli, Action action);
// A set command: sends the request `request` builds (after parsing) and
// prints the Status it gets (PrintSetResult).
void OnChosenSet(CLI::App* command, Cli& cli, std::function<nlohmann::json()> request);

// cmd_view.cpp: what the engine sees and did.
void AddShow(Cli& cli);    // show [DISK]
void AddWhy(Cli& cli);     // why DISK
void AddEvents(Cli& cli);  // events
// cmd_policy.cpp: load-balance policies.
void AddPolicy(Cli& cli);         // policy get|set|set-alua
void AddDefaultPolicy(Cli& cli);  // default-policy get|set
// cmd_settings.cpp: engine-wide settings.
void AddTimers(Cli& cli);  // timers get|set
void AddConfig(Cli& cli);  // config save
// cmd_stats.cpp
void AddStats(Cli& cli);  // stats [DISK] [--watch [S] [--count N]] [--clear]
// cmd_sim.cpp
void AddSim(Cli& cli);  // sim ...: the embedded array

}  // namespace openmpio::mpioctl
