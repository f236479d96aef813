// Must not compile (layout.Layers.AFrontEndSeesOnlyTheLibraryApi): a front
// end built on openmpio_api (the nbdkit plugin, the examples) sees
// include/openmpio and none of the engine's layers.
#include "openmpio/openmpio.h"
#include "engine/engine.h"

int openmpio_layout_front_end_internal() {
  return 0;
}
