// Conversions from the configuration to the structs the layers below take:
// the embedded array (array::ArrayConfig), its links (sim::LinkModel) and the
// DSM's MPIO timers. The one place where config names meet the names of the
// layers below; here in the runtime, which builds the sim, so config/ needs
// no array/ or transport/ (DESIGN.md "Layers").
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "array/array.h"
#include "config/config.h"
#include "dsm/lb_defaults.h"
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

// MPIO_TIMERS_COUNTERS (spec/msdsm.md §5) from [timers].
[[nodiscard]] dsm::MpioTimers ToMpioTimers(const config::TimersConfig& timers);

}  // namespace openmpio::runtime
