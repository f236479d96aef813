// Must not compile (layout.Layers.AnUpwardIncludeDoesNotCompile): the engine
// layer sees the layers below it, never the runtime above it.
#include "engine/engine.h"
#include "runtime/runtime.h"

int openmpio_layout_upward() {
  return 0;
}
