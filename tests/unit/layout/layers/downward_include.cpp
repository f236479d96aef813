// Must compile (layout.Layers.ADownwardIncludeCompiles): the same target as
// upward_include.cpp, with headers of its own layer and the layers below
// only, so the must-fail test fails for the upward include and nothing else.
#include "dsm/types.h"
#include "engine/engine.h"
#include "scsi/cdb.h"
#include "transport/transport.h"

int openmpio_layout_downward() {
  return 0;
}
