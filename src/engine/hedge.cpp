// Hedging a hung path (issue 13 item 7; EngineConfig::hedge_*).
//
// dm-multipath and Linux NVMe wait for the command timeout before they give
// up on a path that stopped answering: one hung port of two stalls every
// request sent to it for command_timeout (30 s by default). Here each nexus
// keeps its I/O commands in flight in a list, oldest first (linked at
// SendOnNexus, unlinked at completion: a few pointer writes, no allocation,
// its own executor only). A sweep on that executor, armed while commands are
// in flight, runs every hedge_floor / 4 and looks at the oldest: one
// outstanding longer than the nexus's threshold —
//     max(hedge_floor, hedge_multiplier x the recent peak service time)
// — is abandoned (TransportNexus::Abandon: the transport drops its late
// answer, so the caller's buffer is never written twice) if a path of its
// disk on another nexus could carry its I/O (in the usable set now, or the
// one a failover would promote). Its completion (kAbandoned) fails the nexus as
// suspected hung, with an event, and the chunk is dispatched again on what is
// left — a write as after a timeout: its first copy enters the fence set
// (DESIGN.md "Write fencing"; later overlapping writes wait for its fence).
// The failed nexus is probed at once (TEST UNIT READY): a nexus that was only
// slow answers and is reinstated within milliseconds; a hung one answers
// nothing and stays out until a probe gets through.
//
// The last path that could carry the I/O is never abandoned: with every path
// hung, the command timeout of the last one decides, then PDORemovePeriod —
// one command_timeout in all, not one per path.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "engine/engine_impl.h"

namespace openmpio::engine {
namespace {

std::string Ms(Duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", std::chrono::duration<double, std::milli>(d).count());
  return text;
}

const char* OpName(IoOp op) {
  switch (op) {
    case IoOp::kRead:
      return "READ";
    case IoOp::kWrite:
      return "WRITE";
    case IoOp::kFlush:
      return "SYNCHRONIZE CACHE";
    case IoOp::kUnmap:
      return "UNMAP";
    case IoOp::kWriteSame:
      return "WRITE SAME";
    case IoOp::kReadCapacity:
      return "READ CAPACITY";
  }
  return "command";
}

// True when a path of c's disk on another nexus than c's could carry its
// I/O (rule 1 of dsm/path_state.h: online, not failed, its group not
// Unavailable): failing c's nexus then leaves the disk a path — in the usable
// set now, or the one a failover promotes (FOO's next path, an A/N group).
bool OtherNexusCanServe(const IoChunk& c) {
  const DiskRuntime& d = *c.disk;
  const SnapshotCell::Pin pin = d.snapshot.Acquire();
  const dsm::SelectionSnapshot* s = pin.get();
  if (s == nullptr) return false;
  const std::vector<dsm::PathView>& paths = s->states().paths;
  for (std::size_t i = 0; i < paths.size() && i < d.path_nexus.size(); ++i) {
    if (paths[i].eligible && d.path_nexus[i].load(std::memory_order_acquire) != c.nexus) {
      return true;
    }
  }
  return false;
}

}  // namespace

void Engine::Impl::LinkInflight(NexusRuntime& n, IoChunk* c) {
  c->in_flight = true;
  c->flight_next = nullptr;
  c->flight_prev = n.inflight_tail;
  if (n.inflight_tail != nullptr) {
    n.inflight_tail->flight_next = c;
  } else {
    n.inflight_head = c;
  }
  n.inflight_tail = c;
  if (n.hedge_timer == 0) {
    NexusRuntime* np = &n;
    n.hedge_timer =
        n.executor->PostAfter(config.hedge_floor / 4, [this, np]() { HedgeSweep(*np); });
  }
}

void Engine::Impl::UnlinkInflight(NexusRuntime& n, IoChunk* c) {
  if (!c->in_flight) return;
  c->in_flight = false;
  if (c->flight_prev != nullptr) {
    c->flight_prev->flight_next = c->flight_next;
  } else {
    n.inflight_head = c->flight_next;
  }
  if (c->flight_next != nullptr) {
    c->flight_next->flight_prev = c->flight_prev;
  } else {
    n.inflight_tail = c->flight_prev;
  }
  c->flight_prev = nullptr;
  c->flight_next = nullptr;
}

Duration Engine::Impl::HedgeThreshold(const NexusRuntime& n) const {
  const auto peak = std::chrono::nanoseconds(n.peak_ns);
  return std::max<Duration>(config.hedge_floor,
                            std::chrono::duration_cast<Duration>(peak * config.hedge_multiplier));
}

void Engine::Impl::HedgeSweep(NexusRuntime& n) {
  n.hedge_timer = 0;
  const TimePoint now = n.executor->Now();
  const Duration threshold = HedgeThreshold(n);
  while (IoChunk* c = n.inflight_head) {
    if (now - c->started < threshold) break;
    // Looked at once per attempt: abandoned, or left to its command timeout
    // when no other nexus can serve the disk now.
    UnlinkInflight(n, c);
    if (!OtherNexusCanServe(*c)) continue;
    c->abandoned_age = now - c->started;
    n.stats.hedges.fetch_add(1, std::memory_order_relaxed);
    n.transport->Abandon(c->tag);
  }
  if (n.inflight_head != nullptr && !shutting_down) {
    NexusRuntime* np = &n;
    n.hedge_timer =
        n.executor->PostAfter(config.hedge_floor / 4, [this, np]() { HedgeSweep(*np); });
  }
}

// The completion of an abandoned command (nexus executor).
void Engine::Impl::SuspectAndRedispatch(IoChunk* c, TimePoint now) {
  NexusRuntime* np = c->nexus;
  if (c->IsWrite()) RecordFence(c, now);  // rule 2: the first copy may still land
  std::string why = std::string("suspected hung: a ") + OpName(c->op) + " outstanding " +
                    Ms(c->abandoned_age) + " (threshold " + Ms(HedgeThreshold(*np)) +
                    ") was sent again on another path; probing it now";
  control.Post([this, c, np, why = std::move(why)]() {
    FailNexus(*np, why);
    ScheduleProbe(*np, /*at_once=*/true);
    Dispatch(c);
  });
}

}  // namespace openmpio::engine
