// Conversions from the configuration to the structs the layers below take:
// the embedded array (array::ArrayConfig), its links (sim::LinkModel), the
// iSCSI paths of [[target]] (IscsiPath) and the DSM's MPIO timers. The one place where config names
// meet the names of the layers below; here in the runtime, which builds the sim, so config/ needs
// no array/ or transport/ (DESIGN.md "Layers").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "array/array.h"
#include "config/config.h"
#include "dsm/lb_defaults.h"
#include "engine/engine.h"
#include "transport/iscsi/iscsi_nexus.h"
#include "transport/iscsi/send_targets.h"
#include "transport/sim/sim_fabric.h"

namespace openmpio::runtime {

// owner_group becomes A/O for that group and A/N for every other group of
// sim.port; `states` overrides per group. Sizes become blocks. The array
// checks the result again (Array::Create).
[[nodiscard]] array::ArrayConfig ToArrayConfig(const config::SimConfig& sim);
// One [[sim.lu]] of `sim` (its groups from sim.port), as ToArrayConfig makes it.
[[nodiscard]] array::LuConfig ToArrayLu(const config::SimConfig& sim,
                                        const config::SimLuConfig& lu);

// One (relative target port, link model) per [[sim.port]], in file order.
[[nodiscard]] std::vector<std::pair<std::uint16_t, transport::sim::LinkModel>> ToLinkModels(
    const config::SimConfig& sim);

// One path of a [[target]]: a session through one of its portals.
struct IscsiPath {
  transport::NexusAddress address;
  transport::iscsi::IscsiNexusOptions options;
  engine::NexusOptions use;
};

// The initiator name when a [[target]] names none:
// "iqn.2024-01.org.openmpio:<host name>", the host name lowercased and every
// character iSCSI names do not allow (RFC 3722) made '-'.
[[nodiscard]] std::string DefaultInitiatorName();

// The ISID of the path from `initiator` to `target` through `portal`: the
// random format of RFC 7143 10.12.5 (T = 10b) with 40 bits of FNV-1a over the
// three. The same at every start, so a reconnect — and the login after a
// restart — reinstates that path's session (the fence of DESIGN.md "Write
// fencing") and the path keeps its DsmPathId; different for every portal, so
// two paths to one target port are two sessions, not one reinstating the
// other.
[[nodiscard]] std::uint64_t PathIsid(const std::string& initiator, const std::string& target,
                                     const std::string& portal);

// The portals SendTargets found, by target name (send_targets.h).
using DiscoveredPortals = std::map<std::string, std::vector<transport::iscsi::TargetPortal>>;

// Every path of every [[target]], in file order (target, then portal): its
// configured portals, or with sendtargets = true those `discovered` holds for
// it (none when discovery failed). The portal group tag of a configured
// portal is 0: libiscsi 1.19 does not report the tag of the login answer,
// and the ISID already tells two paths apart; SendTargets gives the tag.
[[nodiscard]] std::vector<IscsiPath> ToIscsiPaths(const config::Config& config,
                                                  Duration command_timeout,
                                                  const DiscoveredPortals& discovered = {});

// SendTargets for every [[target]] with sendtargets = true, through its
// portals in order until one answers (each within login_timeout). A target
// none of them reports is missing from the map; `problems` gets one line
// per failure (no secret in it).
[[nodiscard]] DiscoveredPortals DiscoverPortals(const config::Config& config,
                                                std::vector<std::string>* problems);

// MPIO_TIMERS_COUNTERS (spec/msdsm.md §5) from [timers].
[[nodiscard]] dsm::MpioTimers ToMpioTimers(const config::TimersConfig& timers);

}  // namespace openmpio::runtime
