// SimNexus (sim_nexus.h), the link: the two directions of one connection,
// each a FIFO whose messages are due after transmit time (bandwidth),
// latency and any injected delay, held while the port hangs; and the pump
// that delivers them in due order to the target side or the initiator.
#include <algorithm>
#include <cassert>
#include <limits>

#include "transport/sim/sim_nexus.h"

namespace openmpio::transport::sim {
namespace {

constexpr std::uint64_t kNsPerSecond = 1'000'000'000;

// Time to put bytes on a link of bandwidth bytes/s (0: unlimited), exact in
// nanoseconds as long as the remainder product fits 64 bits.
Duration TransmitTime(std::uint64_t bytes, std::uint64_t bandwidth) {
  if (bandwidth == 0 || bytes == 0) return Duration::zero();
  const std::uint64_t whole = bytes / bandwidth * kNsPerSecond;
  const std::uint64_t rem = bytes % bandwidth;
  const std::uint64_t frac = rem <= std::numeric_limits<std::uint64_t>::max() / kNsPerSecond
                                 ? rem * kNsPerSecond / bandwidth
                                 : static_cast<std::uint64_t>(static_cast<double>(rem) * 1e9 /
                                                              static_cast<double>(bandwidth));
  return Duration(static_cast<Duration::rep>(whole + frac));
}

}  // namespace

TimePoint SimNexus::DueLocked(SimFabric::Port& port, bool to_target, std::uint64_t bytes,
                              TimePoint* last_due) {
  const TimePoint now = executor_.Now();
  TimePoint& idle_at = to_target ? port.to_target_free : port.to_initiator_free;
  const TimePoint start = std::max(now, idle_at);
  const Duration tx = TransmitTime(bytes, port.model.bandwidth_bytes_per_second);
  idle_at = start + tx;
  TimePoint due = start + tx + port.model.latency + port.extra_delay;
  // One TCP connection per session: nothing overtakes what was sent before,
  // even when the delay shrinks.
  if (due < *last_due) due = *last_due;
  *last_due = due;
  return due;
}

void SimNexus::Send(MsgKind kind, std::uint32_t index, std::uint64_t seq, std::uint64_t arg,
                    std::uint64_t bytes) {
  {
    std::lock_guard<std::mutex> lock(fabric_.mutex_);
    SimFabric::Port* port = fabric_.FindPort(rtp_);
    assert(port != nullptr);  // Connect checked it; ports are never removed
    QueueLocked(*port, kind, index, seq, gen_, arg, bytes);
  }
  ArmPump();
}

void SimNexus::QueueLocked(SimFabric::Port& port, MsgKind kind, std::uint32_t index,
                           std::uint64_t seq, std::uint64_t gen, std::uint64_t arg,
                           std::uint64_t bytes) {
  // The kinds before kResponse go from the initiator to the target.
  const bool to_target = kind < MsgKind::kResponse;
  Message m;
  m.kind = kind;
  m.index = index;
  m.seq = seq;
  m.gen = gen;
  m.arg = arg;
  m.session = session_;
  m.due =
      DueLocked(port, to_target, bytes, to_target ? &last_due_to_target_ : &last_due_to_initiator_);
  (to_target ? to_target_ : to_initiator_).push_back(m);
}

void SimNexus::ArmPump() {
  bool hung = false;
  {
    std::lock_guard<std::mutex> lock(fabric_.mutex_);
    SimFabric::Port* port = fabric_.FindPort(rtp_);
    hung = port == nullptr || port->hung;
  }
  // Both queues are sorted by due time (DueLocked keeps them monotonic), so
  // the first deliverable message of each is its earliest.
  bool any = false;
  TimePoint earliest{};
  for (const Message& m : to_target_) {
    if (m.stranded) continue;
    earliest = m.due;
    any = true;
    break;
  }
  if (!to_initiator_.empty() && (!any || to_initiator_.front().due < earliest)) {
    earliest = to_initiator_.front().due;
    any = true;
  }
  if (!any || hung) {
    // Nothing to deliver, or held in the link: Release posts a pump.
    if (pump_timer_ != 0) {
      executor_.Cancel(pump_timer_);
      pump_timer_ = 0;
    }
    return;
  }
  if (pump_timer_ != 0 && pump_due_ <= earliest) return;
  if (pump_timer_ != 0) executor_.Cancel(pump_timer_);
  pump_due_ = earliest;
  pump_timer_ = executor_.PostAfter(earliest - executor_.Now(), [this] {
    pump_timer_ = 0;
    Pump();
  });
}

void SimNexus::Pump() {
  for (;;) {
    bool strand = false;
    if (TakePendingLoss(&strand)) HandleLinkLoss(strand);
    bool hung = false;
    {
      std::lock_guard<std::mutex> lock(fabric_.mutex_);
      SimFabric::Port* port = fabric_.FindPort(rtp_);
      hung = port == nullptr || port->hung;
    }
    if (hung) break;
    const TimePoint now = executor_.Now();
    std::size_t out = to_target_.size();
    for (std::size_t i = 0; i < to_target_.size(); ++i) {
      if (!to_target_[i].stranded) {
        out = i;
        break;
      }
    }
    const bool out_ready = out < to_target_.size() && to_target_[out].due <= now;
    const bool in_ready = !to_initiator_.empty() && to_initiator_.front().due <= now;
    if (!out_ready && !in_ready) break;
    // Earliest first; on a tie the initiator's message goes first (it was
    // sent no later than the answer it would race).
    if (out_ready && (!in_ready || to_target_[out].due <= to_initiator_.front().due)) {
      const Message m = to_target_[out];
      to_target_.erase(to_target_.begin() + static_cast<std::ptrdiff_t>(out));
      ArriveAtTarget(m);
    } else {
      const Message m = to_initiator_.front();
      to_initiator_.erase(to_initiator_.begin());
      ArriveAtInitiator(m);
    }
  }
  ArmPump();
}

void SimNexus::ReleaseMessage(const Message& m) {
  if (m.kind == MsgKind::kCommand || m.kind == MsgKind::kResponse) LeaveNetwork(m.index);
}

}  // namespace openmpio::transport::sim
