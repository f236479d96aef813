// Preflight: every check Runtime::Start makes on a Config before it starts a
// thread, and the engine's limits that would otherwise cut a config short
// without a word, as one pure call. A front end that forks (nbdkit's
// .config_complete runs before the fork, .after_fork after it) calls it
// first, so a config the engine cannot serve is refused in the foreground,
// on stderr, with a non-zero exit.
//
// What stays for Start: what needs the running process — threads, the
// management socket, discovery finding a ready disk, [[disk]] settings that
// need the disk found, and a sparse file that cannot be opened.
#pragma once

#include "config/config.h"
#include "openmpio/status.h"

namespace openmpio::runtime {

// OK, or the first problem:
//  - neither [sim] nor [[target]]: STATUS_INVALID_PARAMETER
//  - a [[target]] with more portals than paths a disk can have
//  - the array of [sim] (ToArrayConfig), by array::CheckConfig:
//    LUN, block size, 1..2^48 blocks, ports and groups, initial states
//  - more ports than paths a disk can have (dsm::kMaxPathsPerDisk: each
//    [[sim.port]] is one path of every LU)
//  - link delays (latency_us, service_time_us) the engine clock cannot hold
// Each STATUS_INVALID_PARAMETER message names the item it is about.
[[nodiscard]] Status Preflight(const config::Config& config);

}  // namespace openmpio::runtime
