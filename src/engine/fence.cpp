// Write fencing (DESIGN.md "Write fencing", every rule of it):
//  1. A write (WRITE, UNMAP, WRITE SAME) whose command timed out or lost its
//     connection is re-dispatched at once (request.cpp): a late first copy
//     carries the same data.
//  2. Its first copy becomes an entry of the disk's fence set (RecordFence).
//     A later write that overlaps an entry — or a write already waiting on
//     one, so waiting writes keep their submission order — waits (FenceGate);
//     reads never do.
//  A fence is only something the target confirmed about the ORIGINAL copy:
//   - ABORT TASK for its tag on the same session, answered FUNCTION COMPLETE
//     or TASK DOES NOT EXIST (transport::IsFence). In the sim and with iSCSI
//     RefCmdSN the TMF cannot overtake the command on its connection, so a
//     command still in a hung link arrives (and executes) before the answer.
//     Sent as soon as the entry exists, and again every RetryInterval while
//     the answer is not a fence (not connected, no answer, rejected) — until
//     the entry's no-path time is over: a dead link is not asked forever.
//     An expired entry is asked again only when its nexus is reinstated
//     (path_monitor.cpp) or another entry is recorded, and is fenced by a
//     session reinstatement as any entry is.
//   - A new session on the same nexus (session reinstatement, Connect after a
//     failure): the target ended the old session and discards what it held
//     and what still arrives from it (NexusRuntime::session).
//  A LOGICAL UNIT RESET alone is not a fence (it covers only commands the
//  target already received), and neither is our own disconnect.
//  If no fence arrives within the no-path time of the entry, the writes
//  waiting on it fail with STATUS_IO_TIMEOUT naming the blocks, and so does
//  every later write that overlaps it, until a fence comes (never reordered,
//  never dropped: a late copy could still land on top of them).
// Cost: the gate is one relaxed load while the fence set is empty; the rest
// runs only after a transport failure of a write.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "dsm/policy.h"
#include "engine/engine_impl.h"

namespace openmpio::engine {
namespace {

bool Overlaps(std::uint64_t a, std::uint64_t an, std::uint64_t b, std::uint64_t bn) {
  return a < b + bn && b < a + an;
}

bool ChunkOverlaps(const IoChunk* c, std::uint64_t lba, std::uint64_t blocks) {
  return Overlaps(c->lba, c->blocks, lba, blocks);
}

Status NotFenced(const DiskRuntime& d, const IoChunk* c, const Duration& bound) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(bound).count();
  return Status(
      NtStatus::kIoTimeout,
      "disk " + d.name + ": blocks " + std::to_string(c->lba) + ".." +
          std::to_string(c->lba + c->blocks - 1) +
          " overlap an earlier write of unknown fate that the target did not fence "
          "within the no-path time (" +
          std::to_string(secs) +
          " s); this write is failed rather than risk being overwritten by its late copy");
}

std::string BlockRange(std::uint64_t lba, std::uint64_t blocks) {
  return std::to_string(lba) + ".." + std::to_string(lba + blocks - 1);
}

}  // namespace

bool Engine::Impl::FenceGate(IoChunk* c) {
  c->gated = true;
  DiskRuntime& d = *c->disk;
  FenceSet& f = d.fences;
  if (f.active.load(std::memory_order_relaxed) == 0) return false;  // the common case
  bool dead = false;
  {
    std::lock_guard<std::mutex> lock(f.mutex);
    bool blocked = false;
    for (const FenceEntry& e : f.entries) {
      if (ChunkOverlaps(c, e.lba, e.blocks)) {
        blocked = true;
        dead = dead || e.expired;
      }
    }
    for (const IoChunk* w : f.waiters) {
      if (ChunkOverlaps(c, w->lba, w->blocks)) blocked = true;
    }
    if (!blocked) return false;
    if (!dead) {
      f.waiters.push_back(c);
      f.active.store(static_cast<std::uint32_t>(f.entries.size() + f.waiters.size()),
                     std::memory_order_relaxed);
      f.held.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  f.failed.fetch_add(1, std::memory_order_relaxed);
  FinishChunk(c, NotFenced(d, c, timers.no_path_time()));
  return true;
}

void Engine::Impl::RecordFence(IoChunk* c, TimePoint /*now*/) {
  DiskRuntime& d = *c->disk;
  FenceSet& f = d.fences;
  FenceEntry e;
  e.lba = c->lba;
  e.blocks = c->blocks;
  e.nexus = c->nexus;
  e.path = c->entry.id;
  e.tag = c->tag;
  e.session = c->session;
  // Deadlines are on the control clock (ArmFenceExpiry compares with it).
  e.recorded = control.Now();
  e.deadline = e.recorded + timers.no_path_time();
  {
    std::lock_guard<std::mutex> lock(f.mutex);
    e.id = f.next_id++;
    f.entries.push_back(e);
    f.active.store(static_cast<std::uint32_t>(f.entries.size() + f.waiters.size()),
                   std::memory_order_relaxed);
  }
  f.recorded.fetch_add(1, std::memory_order_relaxed);
  DiskRuntime* dp = &d;
  std::weak_ptr<bool> token = alive;
  control.Post([this, dp, token, e]() {
    if (token.expired()) return;
    RecordEvent(dp, "fence: a write of blocks " + BlockRange(e.lba, e.blocks) + " sent on path " +
                        dsm::PathIdText(e.path) +
                        " has an unknown fate; overlapping writes wait for its fence");
    StartFences(*dp);
    ArmFenceExpiry(*dp);
  });
}

void Engine::Impl::StartFences(DiskRuntime& d) {
  struct Todo {
    std::uint64_t id;
    NexusRuntime* nexus;
    transport::TaskTag tag;
    std::uint64_t session;
  };
  std::vector<Todo> todo;
  {
    std::lock_guard<std::mutex> lock(d.fences.mutex);
    for (FenceEntry& e : d.fences.entries) {
      if (e.abort_in_flight || e.nexus == nullptr) continue;
      e.abort_in_flight = true;
      todo.push_back(Todo{e.id, e.nexus, e.tag, e.session});
    }
  }
  d.fences.aborts.fetch_add(todo.size(), std::memory_order_relaxed);
  DiskRuntime* dp = &d;
  std::weak_ptr<bool> token = alive;
  for (const Todo& t : todo) {
    t.nexus->executor->Post([this, dp, t, token]() {
      if (token.expired()) return;
      NexusRuntime& n = *t.nexus;
      auto answer = [this, dp, id = t.id, token](transport::TmfResponse r) {
        control.Post([this, dp, id, r, token]() {
          if (!token.expired()) OnAbortAnswer(*dp, id, r);
        });
      };
      if (n.session.load(std::memory_order_relaxed) != t.session) {
        // A newer session exists: the target ended the copy's session.
        control.Post([this, dp, id = t.id, token]() {
          if (!token.expired()) LiftFences(*dp, {id}, "session reinstatement");
        });
        return;
      }
      if (n.transport->state() != transport::NexusState::kConnected) {
        answer(transport::TmfResponse::kNotConnected);  // reinstatement will fence it
        return;
      }
      n.transport->AbortTask(t.tag, answer);
    });
  }
}

void Engine::Impl::OnAbortAnswer(DiskRuntime& d, std::uint64_t entry_id, transport::TmfResponse r) {
  if (transport::IsFence(r)) {
    LiftFences(d, {entry_id}, std::string("ABORT TASK answered ") + transport::TmfResponseName(r));
    return;
  }
  bool any = false;
  const TimePoint now = control.Now();
  {
    std::lock_guard<std::mutex> lock(d.fences.mutex);
    for (FenceEntry& e : d.fences.entries) {
      if (e.id == entry_id) e.abort_in_flight = false;
      // Only entries still within their no-path time are asked again.
      if (!e.expired && e.deadline > now) any = true;
    }
  }
  // Not a fence (no answer, not connected, rejected): ask again later; a
  // reinstatement of the nexus may fence it first. Past the no-path time
  // nothing is asked on a timer (the entry expires: ExpireFences).
  if (!any || d.fences.retry_timer != 0 || shutting_down) return;
  DiskRuntime* dp = &d;
  d.fences.retry_timer = control.PostAfter(timers.retry_interval(), [this, dp]() {
    dp->fences.retry_timer = 0;
    StartFences(*dp);
  });
}

void Engine::Impl::OnSessionEstablished(NexusRuntime& n) {
  n.last_login_error.clear();  // a later failure is news again
  const std::uint64_t now_session = n.session.load(std::memory_order_relaxed);
  for (auto& dp : disks) {
    std::vector<std::uint64_t> ids;
    {
      std::lock_guard<std::mutex> lock(dp->fences.mutex);
      for (const FenceEntry& e : dp->fences.entries) {
        if (e.nexus == &n && e.session < now_session) ids.push_back(e.id);
      }
    }
    if (!ids.empty()) LiftFences(*dp, ids, "session reinstatement");
  }
}

void Engine::Impl::LiftFences(DiskRuntime& d, const std::vector<std::uint64_t>& ids,
                              const std::string& how) {
  std::size_t lifted = 0;
  {
    std::lock_guard<std::mutex> lock(d.fences.mutex);
    auto& es = d.fences.entries;
    const auto before = es.size();
    es.erase(std::remove_if(es.begin(), es.end(),
                            [&ids](const FenceEntry& e) {
                              return std::find(ids.begin(), ids.end(), e.id) != ids.end();
                            }),
             es.end());
    lifted = before - es.size();
  }
  d.fences.fenced.fetch_add(lifted, std::memory_order_relaxed);
  if (lifted != 0) {
    RecordEvent(&d, "fence: " + std::to_string(lifted) + " write(s) of unknown fate fenced by " +
                        how + "; the writes waiting on them go on");
  }
  ReleaseFenceWaiters(d);
}

void Engine::Impl::ReleaseFenceWaiters(DiskRuntime& d) {
  FenceSet& f = d.fences;
  std::vector<IoChunk*> go, fail;
  {
    std::lock_guard<std::mutex> lock(f.mutex);
    std::deque<IoChunk*> keep;
    for (IoChunk* w : f.waiters) {
      bool blocked = false, dead = false;
      for (const FenceEntry& e : f.entries) {
        if (ChunkOverlaps(w, e.lba, e.blocks)) {
          blocked = true;
          dead = dead || e.expired;
        }
      }
      for (const IoChunk* k : keep) {
        if (ChunkOverlaps(w, k->lba, k->blocks)) blocked = true;
      }
      if (dead) {
        fail.push_back(w);
      } else if (blocked) {
        keep.push_back(w);
      } else {
        go.push_back(w);
      }
    }
    f.waiters.swap(keep);
    f.active.store(static_cast<std::uint32_t>(f.entries.size() + f.waiters.size()),
                   std::memory_order_relaxed);
  }
  for (IoChunk* c : fail) {
    f.failed.fetch_add(1, std::memory_order_relaxed);
    FinishChunk(c, NotFenced(d, c, timers.no_path_time()));
  }
  for (IoChunk* c : go) Dispatch(c);
}

void Engine::Impl::ArmFenceExpiry(DiskRuntime& d) {
  if (d.fences.expiry_timer != 0 || shutting_down) return;
  std::optional<TimePoint> earliest;
  {
    std::lock_guard<std::mutex> lock(d.fences.mutex);
    for (const FenceEntry& e : d.fences.entries) {
      if (!e.expired && (!earliest || e.deadline < *earliest)) earliest = e.deadline;
    }
  }
  if (!earliest) return;
  const TimePoint now = control.Now();
  const Duration delay = *earliest > now ? *earliest - now : Duration{0};
  DiskRuntime* dp = &d;
  d.fences.expiry_timer = control.PostAfter(delay, [this, dp]() {
    dp->fences.expiry_timer = 0;
    ExpireFences(*dp);
  });
}

void Engine::Impl::ExpireFences(DiskRuntime& d) {
  const TimePoint now = control.Now();
  std::size_t expired = 0;
  {
    std::lock_guard<std::mutex> lock(d.fences.mutex);
    for (FenceEntry& e : d.fences.entries) {
      if (e.deadline <= now && !e.expired) {
        e.expired = true;
        ++expired;
      }
    }
  }
  if (expired != 0) {
    RecordEvent(&d, "fence: " + std::to_string(expired) +
                        " write(s) of unknown fate not fenced within the no-path time; "
                        "overlapping writes fail until a fence comes");
  }
  ReleaseFenceWaiters(d);
  ArmFenceExpiry(d);
}

}  // namespace openmpio::engine
