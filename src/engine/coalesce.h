// "One in flight, one more asked": the coalescing of the engine's control
// operations (DESIGN.md "Layers": refreshes are coalesced). At most one run
// of an operation is in flight; whoever asks during a run is answered by the
// run after it, not by the one in flight — a unit attention that asks may
// report a change newer than what the run in flight will read. Control
// executor only (no lock).
//
// Users: the ALUA refresh (one RTPG per LU, with waiters: WaiterCoalescer),
// READ CAPACITY after 2A/09, the rescan after 3F/0E (one REPORT LUNS per
// nexus) and the explicit failover's STPG (one per LU).
#pragma once

#include <utility>
#include <vector>

namespace openmpio::engine {

class OneInFlight {
 public:
  // true: nothing was in flight, the caller starts a run now. false: a run
  // is in flight; the caller calls AskAgain if it needs the run after it.
  [[nodiscard]] bool TryStart() noexcept {
    if (in_flight_) return false;
    in_flight_ = true;
    return true;
  }
  // One more run after the one in flight (asks during a run fold into one).
  void AskAgain() noexcept { again_ = true; }
  // The run ended. true: someone asked during it; the caller runs again
  // (TryStart then succeeds).
  [[nodiscard]] bool Finish() noexcept {
    in_flight_ = false;
    return std::exchange(again_, false);
  }
  [[nodiscard]] bool in_flight() const noexcept { return in_flight_; }

 private:
  bool in_flight_ = false;
  bool again_ = false;
};

// OneInFlight whose askers wait for the run that answers them: a callback
// asked before a run starts is answered by that run; one asked during it, by
// the next.
template <typename Waiter>
class WaiterCoalescer {
 public:
  // Queues `w`. true: nothing was in flight, the caller starts a run now
  // (it answers `w` and whatever else waited).
  [[nodiscard]] bool Ask(Waiter w) {
    next_.push_back(std::move(w));
    return StartNext();
  }
  // The run ended: the waiters it answers, for the caller to run. Then the
  // caller calls StartNext: those asked during the run need one more.
  [[nodiscard]] std::vector<Waiter> Finish() {
    (void)run_.Finish();
    std::vector<Waiter> answered;
    answered.swap(current_);
    return answered;
  }
  // true: waiters are queued and nothing is in flight; the caller starts a
  // run for them now.
  [[nodiscard]] bool StartNext() {
    if (next_.empty() || !run_.TryStart()) return false;
    current_.swap(next_);
    next_.clear();
    return true;
  }
  [[nodiscard]] bool in_flight() const noexcept { return run_.in_flight(); }

 private:
  OneInFlight run_;
  std::vector<Waiter> next_;     // for the next run
  std::vector<Waiter> current_;  // answered by the run in flight
};

}  // namespace openmpio::engine
