// The request state machine (DESIGN.md "Error interpretation"):
//
//   Submit ──split──► chunk ─► Dispatch ─► (no usable path) ─► no-path queue
//                                 │                              │ path back: Dispatch
//                                 ▼                              │ no-path time over: fail
//                            SendOnNexus ◄──── retry same path (RetryInterval, 04/0A pause)
//                                 │
//                                 ▼
//                          HandleCompletion ─ InterpretError ─┬─ complete ─► FinishChunk
//                                                             ├─ refresh ALUA ─► Dispatch
//                                                             ├─ fail path ───► Dispatch
//                                                             └─ fail to caller
//
// Allocation: none in the steady state. A caller request takes a pooled
// IoParent (disk_runtime.h IoParentPool) whose first chunk is inline and whose
// further chunks are kept; Dispatch, Select, StartIo, the executor posts
// (pointer-sized captures, stored in std::function's local buffer) and
// Submit do not allocate. The error paths, the no-path queue and the fence
// set may (dispatch_alloc_test.cpp pins the steady state at 0).
//
// Threads: Dispatch runs on the caller's thread (or control / a nexus
// executor on a re-dispatch); SendOnNexus and HandleCompletion on the chosen
// nexus's executor; path failures and ALUA refreshes hop to the control
// executor and come back through Dispatch.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "engine/engine_impl.h"
#include "scsi/block_commands.h"
#include "scsi/read_capacity.h"
#include "scsi/sense.h"
#include "scsi/unmap.h"

namespace openmpio::engine {
namespace {

// A request failed to its caller: the target's answer goes into the Status
// as data (status.h: the errno table reads it) and into the text for people.
Status Describe(const DiskRuntime& d, const dsm::ErrorDecision& dec, const transport::Result& r) {
  std::string msg = "disk " + d.name + ": " + (dec.rule ? dec.rule->text : "error");
  const std::optional<SenseCode> sense = SenseOf(r);
  if (sense) msg += SenseSuffix(*sense);
  const bool conflict = r.outcome == transport::Outcome::kCompleted &&
                        r.status == scsi::ScsiStatus::kReservationConflict;
  if (conflict) msg += " (RESERVATION CONFLICT)";
  Status st(NtStatus::kIoDeviceError, std::move(msg));
  if (sense) st.SetSense(*sense);
  if (conflict) st.SetReservationConflict();
  return st;
}

// MSDSM_DEVICEPATH_PERF's counts: a command that completed on its path,
// with the bytes it carried (WRITE SAME carries one block).
void CountSuccess(PathStats& ps, const IoChunk& c, std::uint32_t block_size) {
  switch (c.op) {
    case IoOp::kRead:
      ps.reads.fetch_add(1, std::memory_order_relaxed);
      ps.bytes_read.fetch_add(c.data_in.size(), std::memory_order_relaxed);
      break;
    case IoOp::kWrite:
      ps.writes.fetch_add(1, std::memory_order_relaxed);
      ps.bytes_written.fetch_add(c.data_out.size(), std::memory_order_relaxed);
      break;
    case IoOp::kWriteSame:
      ps.writes.fetch_add(1, std::memory_order_relaxed);
      ps.bytes_written.fetch_add(block_size, std::memory_order_relaxed);
      break;
    case IoOp::kFlush:
    case IoOp::kUnmap:
    case IoOp::kReadCapacity:
      break;
  }
}

}  // namespace

std::optional<SenseCode> SenseOf(const transport::Result& r) {
  if (r.outcome != transport::Outcome::kCompleted ||
      r.status != scsi::ScsiStatus::kCheckCondition) {
    return std::nullopt;
  }
  auto s = scsi::ParseSense(r.sense_bytes());
  if (!s) return std::nullopt;
  return SenseCode{static_cast<std::uint8_t>(s->key), s->asc, s->ascq};
}

std::string SenseSuffix(const SenseCode& s) {
  char buf[48];
  std::snprintf(buf, sizeof buf, " (sense %X/%02X/%02X)", static_cast<unsigned>(s.key),
                static_cast<unsigned>(s.asc), static_cast<unsigned>(s.ascq));
  return buf;
}

Status Removed(const DiskRuntime& d) {
  return Status(
      NtStatus::kNoSuchDevice,
      "disk " + d.name + ": the LU was removed from the target (REPORT LUNS lists it on no path)");
}

namespace {

std::uint32_t ToMs(Duration d) {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

void Engine::Impl::Submit(DiskRuntime& d, IoOp op, std::uint64_t offset, std::uint64_t length,
                          std::span<std::byte> in, std::span<const std::byte> out, IoCallback done,
                          std::uint8_t flags) {
  if (!d.ready.load(std::memory_order_acquire)) {
    done(Status(NtStatus::kDeviceNotReady, "disk " + d.name + ": discovery has not finished"));
    return;
  }
  const std::uint64_t bs = d.block_size;
  if (op != IoOp::kFlush) {
    if (offset % bs != 0 || length % bs != 0) {
      done(InvalidParameter("offset and length must be multiples of the block size (" +
                            std::to_string(bs) + ")"));
      return;
    }
    const std::uint64_t blocks = d.blocks.load(std::memory_order_relaxed);
    if (offset / bs > blocks || length / bs > blocks - offset / bs) {
      done(InvalidParameter("request past the end of disk " + d.name));
      return;
    }
    if (length == 0) {
      done(OkStatus());
      return;
    }
  } else if (d.deferred_pending.exchange(false, std::memory_order_acq_rel)) {
    // spec/scsi-alua.md: a deferred error fails the disk's next flush.
    done(Status(NtStatus::kIoDeviceError,
                "disk " + d.name + ": the target reported a deferred error for an earlier write"));
    return;
  }

  IoParent* parent = d.io_pool.Get();
  parent->done = std::move(done);
  const std::uint64_t first = offset / bs;
  const std::uint64_t total = length / bs;
  std::uint32_t limit = d.max_transfer_blocks.load(std::memory_order_relaxed);
  if (op == IoOp::kUnmap) limit = d.max_unmap_blocks.load(std::memory_order_relaxed);
  if (op == IoOp::kWriteSame) limit = d.max_write_same_blocks.load(std::memory_order_relaxed);
  if (limit == 0) limit = 1;

  std::size_t count = 0;
  auto add = [&](std::uint64_t lba, std::uint32_t blocks) {
    // Chunk 1 is inline; 2.. are the parent's kept ones, made at a new peak.
    IoChunk* c = &parent->first;
    if (count > 0) {
      if (parent->chunks.size() < count) parent->chunks.push_back(std::make_unique<IoChunk>());
      c = parent->chunks[count - 1].get();
    }
    ++count;
    c->Reset();
    c->parent = parent;
    c->disk = &d;
    c->op = op;
    c->flags = flags;
    c->lba = lba;
    c->blocks = blocks;
    const std::uint64_t byte_off = (lba - first) * bs;
    const std::uint64_t bytes = std::uint64_t{blocks} * bs;
    if (op == IoOp::kRead) c->data_in = in.subspan(byte_off, bytes);
    if (op == IoOp::kWrite) c->data_out = out.subspan(byte_off, bytes);
    if (op == IoOp::kUnmap) {
      c->owned.resize(scsi::UnmapParameterListLength(1));
      const scsi::UnmapBlockDescriptor desc{lba, blocks};
      scsi::BuildUnmapParameterList(std::span<const scsi::UnmapBlockDescriptor>(&desc, 1),
                                    scsi::MutableBytes(c->owned));
    }
    if (op == IoOp::kWriteSame) c->owned.assign(bs, std::byte{0});
    c->hint.lba = lba;
    c->hint.blocks = blocks;
    c->hint.bytes = (op == IoOp::kRead || op == IoOp::kWrite) ? bytes : 0;
    c->hint.kind = op == IoOp::kRead    ? dsm::IoKind::kRead
                   : op == IoOp::kWrite ? dsm::IoKind::kWrite
                                        : dsm::IoKind::kOther;
  };
  if (op == IoOp::kFlush) {
    add(0, 0);
  } else {
    for (std::uint64_t done_blocks = 0; done_blocks < total;) {
      const auto n =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(limit, total - done_blocks));
      add(first + done_blocks, n);
      done_blocks += n;
    }
  }
  parent->remaining.store(static_cast<std::uint32_t>(count), std::memory_order_relaxed);
  // A chunk may finish inside Dispatch (fence or queue refusal), but the
  // parent is recycled only by the last one: every read of it here happens
  // before the last chunk's Dispatch.
  for (std::size_t i = 0; i < count; ++i) {
    IoChunk* c = i == 0 ? &parent->first : parent->chunks[i - 1].get();
    Dispatch(c);
  }
}

void Engine::Impl::Dispatch(IoChunk* c) {
  DiskRuntime& d = *c->disk;
  // Rule 2 of DESIGN.md "Write fencing" (fence.cpp): a write overlapping a
  // copy of unknown fate waits for its fence. Only on the first dispatch: a
  // re-dispatch of the write itself goes at once (rule 1).
  if (!c->gated && c->IsWrite() && FenceGate(c)) return;
  bool chosen = false;
  {
    const SnapshotCell::Pin pin = d.snapshot.Acquire();
    const dsm::SelectionSnapshot* s = pin.get();
    const dsm::SnapshotEntry* e = s ? s->Select(d.selector, c->hint) : nullptr;
    if (e != nullptr) {
      c->entry = *e;
      c->policy = &s->policy_impl();
      c->nexus = d.path_nexus[e->path_index].load(std::memory_order_acquire);
      s->StartIo(*e, c->hint);
      chosen = true;
    }
  }
  if (!chosen) {
    EnqueueNoPath(c);
    return;
  }
  // The hand-off to the nexus's reactor: a raw post, two words in a
  // lock-free ring (reactor.h).
  c->nexus->executor->Post(&Impl::SendPosted, c);
}

void Engine::Impl::SendPosted(void* chunk) {
  auto* c = static_cast<IoChunk*>(chunk);
  c->disk->engine->SendOnNexus(c);
}

void Engine::Impl::SendOnNexus(IoChunk* c) {
  DiskRuntime& d = *c->disk;
  NexusRuntime& n = *c->nexus;
  transport::Command& cmd = c->command;
  cmd = transport::Command{};
  cmd.lun = d.path_lun[c->entry.path_index].load(std::memory_order_relaxed);
  cmd.timeout_ms = ToMs(n.command_timeout.value_or(config.command_timeout));
  switch (c->op) {
    case IoOp::kRead: {
      scsi::Read16Cdb r;
      r.lba = c->lba;
      r.transfer_length = c->blocks;
      cmd.cdb = scsi::BuildRead16Cdb(r);
      cmd.direction = transport::Direction::kFromDevice;
      cmd.data_in = c->data_in;
      break;
    }
    case IoOp::kWrite: {
      scsi::Write16Cdb w;
      w.lba = c->lba;
      w.transfer_length = c->blocks;
      w.fua = (c->flags & kIoFua) != 0;
      cmd.cdb = scsi::BuildWrite16Cdb(w);
      cmd.direction = transport::Direction::kToDevice;
      cmd.data_out = c->data_out;
      break;
    }
    case IoOp::kFlush:
      cmd.cdb = scsi::BuildSynchronizeCache16Cdb({});
      break;
    case IoOp::kUnmap: {
      scsi::UnmapCdb u;
      u.parameter_list_length = static_cast<std::uint16_t>(c->owned.size());
      cmd.cdb = scsi::BuildUnmapCdb(u);
      cmd.direction = transport::Direction::kToDevice;
      cmd.data_out = c->owned;
      break;
    }
    case IoOp::kWriteSame: {
      scsi::WriteSame16Cdb ws;
      ws.lba = c->lba;
      ws.number_of_blocks = c->blocks;
      ws.unmap = (c->flags & kIoUnmap) != 0;
      cmd.cdb = scsi::BuildWriteSame16Cdb(ws);
      cmd.direction = transport::Direction::kToDevice;
      cmd.data_out = c->owned;
      break;
    }
    case IoOp::kReadCapacity:
      cmd.cdb = scsi::BuildReadCapacity16Cdb({});
      cmd.direction = transport::Direction::kFromDevice;
      cmd.data_in = c->data_in;
      break;
  }
  c->started = n.executor->Now();
  c->session = n.session.load(std::memory_order_relaxed);
  n.stats.commands.fetch_add(1, std::memory_order_relaxed);
  d.path_stats[c->entry.path_index].commands.fetch_add(1, std::memory_order_relaxed);
  c->tag = n.transport->Submit(cmd, &Impl::OnCommandComplete, c);
  if (config.hedge_floor.count() > 0) LinkInflight(n, c);
}

void Engine::Impl::OnCommandComplete(void* context, transport::TaskTag /*tag*/,
                                     const transport::Result& result) {
  auto* c = static_cast<IoChunk*>(context);
  Impl& e = *c->disk->engine;
  e.UnlinkInflight(*c->nexus, c);
  // The fast path: GOOD ends the chunk without the error table, the snapshot
  // or a scan of the paths.
  if (result.outcome == transport::Outcome::kCompleted &&
      result.status == scsi::ScsiStatus::kGood) {
    e.CompleteGood(c);
    return;
  }
  e.HandleCompletion(c, result);
}

std::uint64_t Engine::Impl::EndAttempt(IoChunk* c, TimePoint now) {
  NexusRuntime& n = *c->nexus;
  const auto service = now - c->started;
  const std::uint64_t service_ns =
      service.count() > 0 ? static_cast<std::uint64_t>(service.count()) : 0;
  c->policy->EndIo(c->entry, c->hint, service_ns);
  n.stats.completions.fetch_add(1, std::memory_order_relaxed);
  c->disk->path_stats[c->entry.path_index].latency[LatencyBucket(service_ns / 1000)].fetch_add(
      1, std::memory_order_relaxed);
  return service_ns;
}

void Engine::Impl::CompleteGood(IoChunk* c) {
  NexusRuntime& n = *c->nexus;
  const std::uint64_t service_ns = EndAttempt(c, n.executor->Now());
  // The hedge's "recent peak" (hedge.cpp): answered commands only.
  n.peak_ns = std::max(service_ns, n.peak_ns - n.peak_ns / 1024);
  DiskRuntime& d = *c->disk;
  CountSuccess(d.path_stats[c->entry.path_index], *c, d.block_size);
  FinishChunk(c, OkStatus());
}

void Engine::Impl::CountRetry(IoChunk* c) {
  ++c->retries;
  c->nexus->stats.retries.fetch_add(1, std::memory_order_relaxed);
  c->disk->path_stats[c->entry.path_index].retries.fetch_add(1, std::memory_order_relaxed);
}

// Everything but GOOD: the error table decides (DESIGN.md "Error
// interpretation"), one function per action below.
void Engine::Impl::HandleCompletion(IoChunk* c, const transport::Result& r) {
  DiskRuntime& d = *c->disk;
  NexusRuntime& n = *c->nexus;
  const TimePoint now = n.executor->Now();
  EndAttempt(c, now);
  PathStats& ps = d.path_stats[c->entry.path_index];

  dsm::Completion comp;
  dsm::ErrorContext ctx;
  bool transport_level = false;
  switch (r.outcome) {
    case transport::Outcome::kCompleted:
      comp = r.status == scsi::ScsiStatus::kCheckCondition
                 ? dsm::CheckCondition(scsi::ParseSense(r.sense_bytes()))
                 : dsm::Completion::Scsi(r.status);
      break;
    case transport::Outcome::kConnectionLost:
      comp = dsm::Completion::Transport(dsm::CompletionKind::kConnectionLost);
      ctx.write_may_be_in_flight = c->IsWrite();
      transport_level = true;
      break;
    case transport::Outcome::kTimeout:
      comp = dsm::Completion::Transport(dsm::CompletionKind::kCommandTimeout);
      ctx.write_may_be_in_flight = c->IsWrite();
      transport_level = true;
      break;
    case transport::Outcome::kNotSent:  // never left: no fence needed
      comp = dsm::Completion::Transport(dsm::CompletionKind::kLoginFailure);
      transport_level = true;
      break;
    case transport::Outcome::kAborted:
      RetryAborted(c);
      return;
    case transport::Outcome::kAbandoned:  // the hedge gave up on it (hedge.cpp)
      n.stats.transport_errors.fetch_add(1, std::memory_order_relaxed);
      ps.errors.fetch_add(1, std::memory_order_relaxed);
      SuspectAndRedispatch(c, now);
      return;
  }
  if (transport_level) n.stats.transport_errors.fetch_add(1, std::memory_order_relaxed);
  ctx.retry_count = timers.retry_count();
  ctx.retries_done = c->retries;
  {
    const SnapshotCell::Pin pin = d.snapshot.Acquire();
    if (const dsm::SelectionSnapshot* s = pin.get()) {
      for (const dsm::SnapshotEntry& e : s->usable()) {
        if (e.id != c->entry.id) ctx.other_path_serves_lu = true;
      }
    }
  }
  if (c->first_transition) {
    Duration window =
        std::chrono::milliseconds(d.transition_window_ms.load(std::memory_order_relaxed));
    // DESIGN.md "Timers": never longer than the no-path time when no other
    // path is usable.
    if (!ctx.other_path_serves_lu) window = std::min(window, timers.no_path_time());
    ctx.transition_time_exceeded = now - *c->first_transition >= window;
  }
  const dsm::ErrorDecision dec = dsm::InterpretError(comp, ctx);
  if (dec.follow_ups != dsm::follow_up::kNone) StartFollowUps(n, d, dec.follow_ups);
  if (dec.action != dsm::ErrorAction::kComplete) {
    ps.errors.fetch_add(1, std::memory_order_relaxed);
  }

  switch (dec.action) {
    case dsm::ErrorAction::kComplete:
      CountSuccess(ps, *c, d.block_size);
      FinishChunk(c, OkStatus());
      return;
    case dsm::ErrorAction::kDeferredError:
      d.deferred_errors.fetch_add(1, std::memory_order_relaxed);
      d.deferred_pending.store(true, std::memory_order_release);
      RetrySamePath(c, dec.delay);
      return;
    case dsm::ErrorAction::kRetrySamePath:
      RetrySamePath(c, dec.delay);
      return;
    case dsm::ErrorAction::kRefreshAluaRedispatch:
      RefreshAndRedispatch(c, dec.delay, now);
      return;
    case dsm::ErrorAction::kFailPathRedispatch:
      FailPathAndRedispatch(c, dec, transport_level, now);
      return;
    case dsm::ErrorAction::kFailToCaller:
      FinishChunk(c, Describe(d, dec, r));
      return;
  }
}

// Ended by our own TMF (a LOGICAL UNIT RESET), confirmed by the target: it
// did not and will not execute, and the path is fine. Re-dispatch at once,
// no fence needed (a libiscsi local cancel is kConnectionLost).
void Engine::Impl::RetryAborted(IoChunk* c) {
  CountRetry(c);
  if (c->retries > timers.retry_count() + 8) {
    FinishChunk(c, Status(NtStatus::kIoDeviceError, "disk " + c->disk->name +
                                                        ": request aborted by task management " +
                                                        std::to_string(c->retries) + " times"));
    return;
  }
  Dispatch(c);
}

// BUSY, TASK SET FULL, a reset UA, a deferred error: the same path again,
// after RetryInterval or the transition pause where the table says so.
void Engine::Impl::RetrySamePath(IoChunk* c, dsm::RetryDelay delay_kind) {
  CountRetry(c);
  const Duration delay = delay_kind == dsm::RetryDelay::kRetryInterval     ? timers.retry_interval()
                         : delay_kind == dsm::RetryDelay::kTransitionPause ? config.transition_pause
                                                                           : Duration{0};
  c->policy->StartIo(c->entry, c->hint);
  c->nexus->executor->PostAfter(delay, [this, c]() { SendOnNexus(c); });
}

// The LU's ALUA state changed (2A/06) or is changing (04/0A, 04/0B, 04/0C):
// one coalesced RTPG on control, then a dispatch on the new snapshot — or,
// when no path can serve (only Standby / Unavailable groups left, or none),
// the no-path queue: sending again to a standby port would only loop on
// 04/0B. The queue is released by the publication that brings a path
// (the STPG, or the ALUA re-reads while no path can serve: alua_refresh.cpp).
void Engine::Impl::RefreshAndRedispatch(IoChunk* c, dsm::RetryDelay delay_kind, TimePoint now) {
  CountRetry(c);
  Duration pause{0};
  if (delay_kind == dsm::RetryDelay::kTransitionPause) {
    if (!c->first_transition) c->first_transition = now;
    pause = config.transition_pause;
  }
  control.Post([this, c, pause]() {
    RefreshAlua(*c->disk, [this, c, pause]() {
      if (!ServesIo(c->disk->snapshot.current())) {
        EnqueueNoPath(c);
        return;
      }
      if (pause.count() > 0) {
        control.PostAfter(pause, [this, c]() { Dispatch(c); });
      } else {
        Dispatch(c);
      }
    });
  });
}

// The path (or its whole nexus, on a transport error) fails on control, and
// the chunk is dispatched again at once on what is left.
void Engine::Impl::FailPathAndRedispatch(IoChunk* c, const dsm::ErrorDecision& dec,
                                         bool transport_level, TimePoint now) {
  if (dec.fence_first) {
    // DESIGN.md "Write fencing": the old copy enters the fence set (rule
    // 2, fence.cpp); this copy is re-dispatched at once (rule 1).
    RecordFence(c, now);
  }
  const std::uint32_t path_index = c->entry.path_index;
  NexusRuntime* np = c->nexus;
  const char* why = dec.rule ? dec.rule->text : "path failure";
  control.Post([this, c, np, path_index, transport_level, why]() {
    if (transport_level) {
      FailNexus(*np, why);
    } else {
      FailPath(*c->disk, path_index, why);
    }
    Dispatch(c);
  });
}

void Engine::Impl::FinishChunk(IoChunk* c, Status s) {
  IoParent* p = c->parent;
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(p->mutex);
    if (p->status.ok()) p->status = std::move(s);
  }
  if (p->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // The last chunk: every other chunk's write of `status` (under the mutex)
  // came before its release decrement, which this acquire saw.
  Status final_status = std::move(p->status);
  p->status = OkStatus();
  if (p->pool == nullptr) {  // an internal parent: its callback may read it
    p->done(final_status);
    delete p;
    return;
  }
  // Back to the pool before the callback, so a request the callback submits
  // can reuse it (moving a std::function does not allocate).
  IoCallback done = std::move(p->done);
  p->done = nullptr;
  p->pool->Put(p);
  done(final_status);
}

// ---- the parent pool (disk_runtime.h) ----------------------------------------------

IoParentPool::~IoParentPool() {
  IoParent* p = nullptr;
  while (free_.TryPop(p)) delete p;
}

IoParent* IoParentPool::Get() {
  IoParent* p = nullptr;
  if (free_.TryPop(p)) return p;
  p = new IoParent();
  p->pool = this;
  return p;
}

void IoParentPool::Put(IoParent* p) {
  if (free_.TryPush(p)) return;
  delete p;
}

// ---- no usable path ---------------------------------------------------------------------

void Engine::Impl::EnqueueNoPath(IoChunk* c) {
  DiskRuntime& d = *c->disk;
  {
    std::unique_lock<std::mutex> lock(d.queue_mutex);
    // Re-check under the lock: Publish stores the pointer before DrainNoPath
    // takes this lock, so either we see the new snapshot or it drains us.
    // Publish drains only a snapshot that can serve (ServesIo), and so it is
    // the same test here.
    {
      const SnapshotCell::Pin pin = d.snapshot.Acquire();
      if (ServesIo(pin.get())) {
        lock.unlock();
        control.Post([this, c]() { Dispatch(c); });
        return;
      }
    }
    if (d.removed.load(std::memory_order_relaxed)) {
      lock.unlock();
      FinishChunk(c, Removed(d));
      return;
    }
    if (d.no_path_queue.size() >= config.no_path_queue_limit) {
      lock.unlock();
      FinishChunk(c, Status(NtStatus::kDeviceNotReady,
                            "disk " + d.name + ": no usable path and the no-path queue is full"));
      return;
    }
    if (!c->no_path_deadline) c->no_path_deadline = control.Now() + timers.no_path_time();
    d.no_path_queue.push_back(c);
  }
  DiskRuntime* dp = &d;
  control.Post([this, dp]() {
    ArmExpiry(*dp);
    // While a disk has no usable path its paths are probed every RetryInterval,
    // and the ALUA states of those that answer are re-read as often.
    for (auto& n : nexuses) {
      for (const auto& lu : n->lus) {
        if (lu.disk == dp && n->failed) ScheduleProbe(*n);
      }
    }
    UpdateAluaPoll(*dp);
  });
}

void Engine::Impl::DrainNoPath(DiskRuntime& d) {
  std::deque<IoChunk*> ready;
  {
    std::lock_guard<std::mutex> lock(d.queue_mutex);
    ready.swap(d.no_path_queue);
  }
  for (IoChunk* c : ready) {
    c->no_path_deadline.reset();
    Dispatch(c);
  }
}

void Engine::Impl::ArmExpiry(DiskRuntime& d) {
  if (d.expiry_timer != 0) return;
  std::optional<TimePoint> earliest;
  {
    std::lock_guard<std::mutex> lock(d.queue_mutex);
    for (IoChunk* c : d.no_path_queue) {
      if (c->no_path_deadline && (!earliest || *c->no_path_deadline < *earliest)) {
        earliest = c->no_path_deadline;
      }
    }
  }
  if (!earliest) return;
  const TimePoint now = control.Now();
  const Duration delay = *earliest > now ? *earliest - now : Duration{0};
  DiskRuntime* dp = &d;
  d.expiry_timer = control.PostAfter(delay, [this, dp]() {
    dp->expiry_timer = 0;
    ExpireNoPath(*dp);
  });
}

void Engine::Impl::ExpireNoPath(DiskRuntime& d) {
  const TimePoint now = control.Now();
  std::vector<IoChunk*> expired;
  {
    std::lock_guard<std::mutex> lock(d.queue_mutex);
    auto keep = d.no_path_queue.begin();
    for (auto it = d.no_path_queue.begin(); it != d.no_path_queue.end(); ++it) {
      if ((*it)->no_path_deadline && *(*it)->no_path_deadline <= now) {
        expired.push_back(*it);
      } else {
        *keep++ = *it;
      }
    }
    d.no_path_queue.erase(keep, d.no_path_queue.end());
  }
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timers.no_path_time()).count();
  if (!expired.empty()) {
    RecordEvent(&d, std::to_string(expired.size()) + " request(s) failed: no usable path for " +
                        std::to_string(secs) + " s (the no-path time)");
  }
  for (IoChunk* c : expired) {
    FinishChunk(c, Status(NtStatus::kDeviceNotReady,
                          "disk " + d.name + ": no usable path for " + std::to_string(secs) +
                              " s (the no-path time, MSDSM PDORemovePeriod); request failed"));
  }
  ArmExpiry(d);
}

}  // namespace openmpio::engine
