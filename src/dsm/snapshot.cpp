#include "dsm/snapshot.h"

#include "dsm/policy.h"

namespace openmpio::dsm {

const SnapshotEntry* SelectionSnapshot::Select(SelectorState& state,
                                               const IoHint& hint) const noexcept {
  return impl_->Select(*this, state, hint);
}

void SelectionSnapshot::StartIo(const SnapshotEntry& e, const IoHint& hint) const noexcept {
  impl_->StartIo(e, hint);
}

void SelectionSnapshot::EndIo(const SnapshotEntry& e, const IoHint& hint,
                              std::uint64_t service_ns) const noexcept {
  impl_->EndIo(e, hint, service_ns);
}

std::unique_ptr<const SelectionSnapshot> BuildSnapshot(const Disk& disk,
                                                       const SelectorState& state,
                                                       const SelectionSnapshot* previous,
                                                       const DsmOptions& options,
                                                       std::uint64_t now_ms) {
  const LoadBalancePolicy policy = EffectivePolicy(disk, options);
  std::unique_ptr<SelectionSnapshot> s(new SelectionSnapshot());
  s->kind_ = policy;
  s->impl_ = &PolicyFor(policy);
  s->generation_ = previous ? previous->generation() + 1 : 1;
  s->states_ = ComputePathStates(disk, policy, s->impl_->PreviousPath(previous, state), now_ms);
  s->mode_ = s->states_.mode;

  s->entries_.reserve(s->states_.usable_count());
  for (std::size_t i = 0; i < disk.paths.size(); ++i) {
    if (!s->states_.paths[i].usable) continue;
    const Path& p = disk.paths[i];
    SnapshotEntry e;
    e.counters = &p.nexus->counters;
    e.weight = p.weight;
    e.path_index = static_cast<std::uint32_t>(i);
    e.id = p.id();
    s->entries_.push_back(e);
    s->keep_alive_.push_back(p.nexus);
  }
  if (const auto k = s->impl_->Precompute(s->entries_, s->states_)) s->fixed_ = &s->entries_[*k];
  return s;
}

}  // namespace openmpio::dsm
