// Must compile (layout.Layers.AFrontEndBuildsOnTheLibraryApi): the same
// target kind as front_end_internal.cpp with the public headers only, so the
// must-fail test fails for the internal include and nothing else.
#include "openmpio/expected.h"
#include "openmpio/openmpio.h"
#include "openmpio/status.h"

int openmpio_layout_front_end_api() {
  return openmpio::ErrnoOf(openmpio::OkStatus());
}
