// Conversions from the configuration to the structs the layers below take:
// the embedded array (array::ArrayConfig), its links (sim::LinkModel), the
// iSCSI paths of [[target]] (IscsiPath) and the DSM's MPIO timers. The one place where config names
// meet the names of the layers below; here in the runtime, which builds the sim, so config/ needs
// no array/ or transport/ (DESIGN.md "Layers").
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "array/array.h"
#include "config/config.h"
#include "dsm/lb_defaults.h"
#include "engine/engine.h"
#include "transport/iscsi/iscsi_nexus.h"
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

// Every path of every [[target]], in file order (target, then portal). The
// portal group tag is left 0: libiscsi 1.19 does not report the tag of the
// login answer, and the ISID already tells two paths apart.
[[nodiscard]] std::vector<IscsiPath> ToIscsiPaths(const config::Config& config,
                                                  Duration command_timeout);

// MPIO_TIMERS_COUNTERS (spec/msdsm.md §5) from [timers].
[[nodiscard]] dsm::MpioTimers ToMpioTimers(const config::TimersConfig& timers);

}  // namespace openmpio::runtime
