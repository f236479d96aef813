// SimNexus (sim_nexus.h), the target side: a message that arrived at the
// target port is executed against the fabric's DeviceServer (commands after
// the port's service time, task management, login with session
// reinstatement, logout), and the answer is queued on the link back. Runs on
// this nexus's executor with the fabric's state under its mutex.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "transport/sim/sim_nexus.h"

namespace openmpio::transport::sim {
namespace {

TmfResponse FromDeviceServer(array::TaskManagementResult r) {
  switch (r) {
    case array::TaskManagementResult::kFunctionComplete:
      return TmfResponse::kFunctionComplete;
    case array::TaskManagementResult::kLunDoesNotExist:
      return TmfResponse::kLunDoesNotExist;
    case array::TaskManagementResult::kRejected:
      return TmfResponse::kRejected;
  }
  return TmfResponse::kFailed;
}

}  // namespace

void SimNexus::ArriveAtTarget(const Message& m) {
  scratch_.clear();
  bool release_index = false;
  bool schedule = false;
  Duration service{0};
  std::vector<std::pair<std::uint64_t, Executor*>> notify;  // LU reset only
  {
    std::lock_guard<std::mutex> lock(fabric_.mutex_);
    SimFabric::Port* port = fabric_.FindPort(rtp_);
    if (port == nullptr) return;
    const bool open = fabric_.SessionOpen(m.session);
    switch (m.kind) {
      case MsgKind::kCommand: {
        const Slot& s = slots_[m.index];
        if (!open) {
          // The target closed this session's connections: nothing more from
          // them is executed (the fence of session reinstatement / logout).
          ++port->counters.discarded;
          release_index = true;
          break;
        }
        ++port->counters.commands;
        port->counters.bytes_out += s.data_out.size();
        SimFabric::TargetTask t;
        t.nexus_id = id_;
        t.slot = m.index;
        t.session = m.session;
        t.lun = s.lun;
        t.tag = s.tag;
        fabric_.task_set_.push_back(t);
        service = port->model.service_time;
        schedule = true;
        break;
      }
      case MsgKind::kAbortTask: {
        if (!open) break;  // a closed connection carries nothing more
        ++port->counters.task_management;
        TmfResponse response = TmfResponse::kTaskDoesNotExist;
        auto& tasks = fabric_.task_set_;
        for (std::size_t i = 0; i < tasks.size(); ++i) {
          if (tasks[i].session == m.session && tasks[i].tag == m.arg) {
            scratch_.push_back(tasks[i].slot);
            tasks.erase(tasks.begin() + static_cast<std::ptrdiff_t>(i));
            response = TmfResponse::kFunctionComplete;
            break;
          }
        }
        QueueLocked(*port, MsgKind::kTmfResponse, m.index, m.seq, m.gen,
                    static_cast<std::uint64_t>(response), 0);
        break;
      }
      case MsgKind::kLuReset: {
        if (!open) break;
        ++port->counters.task_management;
        const array::TaskManagementResult r =
            fabric_.server_.LogicalUnitReset(m.session, m.arg, executor_.Now());
        if (r == array::TaskManagementResult::kFunctionComplete) {
          auto& tasks = fabric_.task_set_;
          for (std::size_t i = 0; i < tasks.size();) {
            const SimFabric::TargetTask t = tasks[i];
            if (t.lun != m.arg) {
              ++i;
              continue;
            }
            tasks.erase(tasks.begin() + static_cast<std::ptrdiff_t>(i));
            if (t.nexus_id == id_) {
              scratch_.push_back(t.slot);
            } else if (SimFabric::NexusRecord* rec = fabric_.FindRecord(t.nexus_id)) {
              fabric_.third_party_aborts_.push_back({t.nexus_id, t.slot, t.tag});
              notify.emplace_back(rec->id, rec->executor);
            }
          }
        }
        QueueLocked(*port, MsgKind::kTmfResponse, m.index, m.seq, m.gen,
                    static_cast<std::uint64_t>(FromDeviceServer(r)), 0);
        break;
      }
      case MsgKind::kLogin: {
        Status result;
        if (port->refuse_logins) {
          result = Status(NtStatus::kDeviceNotReady,
                          "sim: target port " + std::to_string(rtp_) + " refuses logins");
        } else {
          // Session reinstatement (RFC 7143 6.3.5): same initiator and ISID,
          // so the old session ends first — its tasks and held commands die.
          if (open) fabric_.CloseSession(m.session, &scratch_, id_);
          const array::ItNexusId nexus =
              fabric_.server_.AttachNexus(rtp_, address_.initiator_name, address_.isid);
          if (nexus == 0) {
            result = Status(NtStatus::kNoSuchDevice,
                            "sim: the device server refused a login on "
                            "target port " +
                                std::to_string(rtp_));
          } else {
            fabric_.open_sessions_.push_back(nexus);
            session_ = nexus;
            ++port->counters.logins;
          }
        }
        if (session_op_.active && !session_op_.logout && session_op_.gen == m.gen) {
          session_op_.result = result;
        }
        QueueLocked(*port, MsgKind::kLoginResponse, 0, m.seq, m.gen, 0, 0);
        break;
      }
      case MsgKind::kLogout:
        if (open) fabric_.CloseSession(m.session, &scratch_, id_);
        QueueLocked(*port, MsgKind::kLogoutResponse, 0, m.seq, m.gen, 0, 0);
        break;
      default:
        break;
    }
  }
  if (release_index) LeaveNetwork(m.index);
  for (std::uint32_t index : scratch_) LeaveNetwork(index);
  for (auto& [nexus_id, executor] : notify) {
    fabric_.PostEvent(nexus_id, executor, SimFabric::Event::kThirdPartyAborts);
  }
  if (schedule) {
    slots_[m.index].exec_timer =
        executor_.PostAfter(service, [this, index = m.index] { ExecuteAtTarget(index); });
  }
}

void SimNexus::ExecuteAtTarget(std::uint32_t index) {
  Slot& s = slots_[index];
  s.exec_timer = 0;
  {
    std::lock_guard<std::mutex> lock(fabric_.mutex_);
    auto& tasks = fabric_.task_set_;
    auto it = std::find_if(tasks.begin(), tasks.end(), [&](const SimFabric::TargetTask& t) {
      return t.nexus_id == id_ && t.slot == index && t.tag == s.tag;
    });
    // Gone: aborted or its session ended; whoever removed it released it.
    if (it == tasks.end()) return;
    const SimFabric::TargetTask task = *it;
    tasks.erase(it);
    SimFabric::Port* port = fabric_.FindPort(rtp_);

    array::CommandRequest request;
    request.nexus = task.session;
    request.lun = task.lun;
    request.cdb = s.cdb.span();
    request.data_out = s.data_out;
    request.data_in = s.data_in;
    const array::CommandResponse response = fabric_.server_.Execute(request, executor_.Now());

    s.answer.status = response.status;
    s.answer.sense_length =
        static_cast<std::uint8_t>(std::min<std::size_t>(response.sense_length, kMaxSenseLength));
    std::memcpy(s.answer.sense.data(), response.sense.data(), s.answer.sense_length);
    s.answer.data_in_length = static_cast<std::uint32_t>(
        std::min<std::size_t>(response.data_in_length, s.data_in.size()));
    if (port == nullptr) return;
    port->counters.bytes_in += s.answer.data_in_length;
    QueueLocked(*port, MsgKind::kResponse, index, s.tag, s.gen, 0, s.answer.data_in_length);
  }
  ArmPump();
}

}  // namespace openmpio::transport::sim
