// Unit attention conditions per I_T nexus and LU (SAM-5 5.14).
#include <algorithm>

#include "array/array_state.h"

namespace openmpio::array {

void QueueUnitAttention(NexusState& n, std::uint64_t lun, scsi::AscAscq code) {
  auto& q = n.unit_attentions[lun];
  if (scsi::asc::IsResetFamily(code)) {
    q.clear();  // a reset subsumes the older conditions (SAM-5 5.14)
  } else if (std::find(q.begin(), q.end(), code) != q.end()) {
    return;  // one of each is enough: the initiator re-reads the state once
  }
  q.push_back(code);
}

void QueueUnitAttention(ArrayState& s, std::uint64_t lun, scsi::AscAscq code, ItNexusId except) {
  for (auto& [id, n] : s.nexuses) {
    if (id != except) QueueUnitAttention(n, lun, code);
  }
}

std::optional<scsi::AscAscq> TakeUnitAttention(NexusState& n, std::uint64_t lun) {
  const auto it = n.unit_attentions.find(lun);
  if (it == n.unit_attentions.end() || it->second.empty()) return std::nullopt;
  const scsi::AscAscq code = it->second.front();
  it->second.pop_front();
  return code;
}

}  // namespace openmpio::array
