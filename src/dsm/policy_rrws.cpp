// Round Robin with Subset (spec/msdsm.md §3 row 3): rotate over the primary
// (AO) paths; AU paths stay unused while any AO path is usable. When every
// primary has failed the snapshot holds the failover subset instead (a standby
// on non-ALUA storage, the AU/SB/UA subset on ALUA: path_state.h rule 6), and a
// returning primary displaces it at the next rebuild.
#include "dsm/policy.h"

namespace openmpio::dsm {

const Policy& RoundRobinWithSubsetPolicy() noexcept {
  static const RotatingPolicy<LoadBalancePolicy::kRoundRobinWithSubset> policy;
  return policy;
}

}  // namespace openmpio::dsm
