// Array: construction, the I_T nexus and task management calls, the control
// API, and Execute's order of checks (SAM-5 5.14 / SPC-4 5.15.2.4):
//   1. implicit transitions and timed faults due by `now`
//   2. BUSY / TASK SET FULL faults (the task set refuses the command)
//   3. no such LU: 25/00 (INQUIRY and REPORT LUNS still answer)
//   4. a pending unit attention, except to INQUIRY, REPORT LUNS and REQUEST
//      SENSE (which returns it)
//   5. the CDB: ILLEGAL REQUEST 20/00 or 24/00 with a field pointer
//   6. ALUA: what the group's state allows (access_state.cpp)
//   7. sense and 04/0A storm faults
//   8. the command itself
#include "array/array.h"

#include <type_traits>
#include <variant>

#include "array/array_state.h"

namespace openmpio::array {
namespace {

void HandleRequestSense(ArrayState& s, Command& cmd, const scsi::RequestSenseCdb& cdb,
                        NexusState& nexus) {
  // SPC-4 6.29: the sense the next command would get, as parameter data
  // with GOOD status; a unit attention it reports is cleared.
  scsi::SenseSpec spec{scsi::SenseKey::kNoSense, scsi::asc::kNoAdditionalSense, {}, false};
  if (cmd.lu == nullptr) {
    spec = {scsi::SenseKey::kIllegalRequest, scsi::asc::kLogicalUnitNotSupported, {}, false};
  } else if (auto ua = TakeUnitAttention(nexus, cmd.lu->config.lun)) {
    spec = {scsi::SenseKey::kUnitAttention, *ua, {}, false};
  } else if (auto refusal = AluaRefusal(cmd.lu->groups.at(cmd.group).state, CommandClass::kMedia)) {
    spec = {scsi::SenseKey::kNotReady, *refusal, {}, false};
  }
  (void)s;
  const std::size_t room = Room(cmd.request, cdb.allocation_length);
  const scsi::MutableBytes out = cmd.request.data_in.first(room);
  const std::size_t full =
      cdb.desc ? scsi::BuildDescriptorSense(spec, out) : scsi::BuildFixedSense(spec, out);
  GoodWithData(cmd.response, full, room);
}

void Dispatch(ArrayState& s, Command& cmd, const scsi::DecodedCdb& decoded, NexusState& nexus) {
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, scsi::TestUnitReadyCdb>) {
          GoodWithData(cmd.response, 0, 0);
        } else if constexpr (std::is_same_v<T, scsi::RequestSenseCdb>) {
          HandleRequestSense(s, cmd, c, nexus);
        } else if constexpr (std::is_same_v<T, scsi::InquiryCdb>) {
          HandleInquiry(s, cmd, c);
        } else if constexpr (std::is_same_v<T, scsi::ModeSense10Cdb>) {
          HandleModeSense(s, cmd, c);
        } else if constexpr (std::is_same_v<T, scsi::UnmapCdb>) {
          HandleUnmap(s, cmd, c);
        } else if constexpr (std::is_same_v<T, scsi::Read16Cdb>) {
          HandleRead(s, cmd, c);
        } else if constexpr (std::is_same_v<T, scsi::Write16Cdb>) {
          HandleWrite(s, cmd, c);
        } else if constexpr (std::is_same_v<T, scsi::SynchronizeCache16Cdb>) {
          HandleSynchronizeCache(s, cmd, c);
        } else if constexpr (std::is_same_v<T, scsi::WriteSame16Cdb>) {
          HandleWriteSame(s, cmd, c);
        } else if constexpr (std::is_same_v<T, scsi::ReadCapacity16Cdb>) {
          HandleReadCapacity(s, cmd, c);
        } else if constexpr (std::is_same_v<T, scsi::ReportLunsCdb>) {
          HandleReportLuns(s, cmd, c);
        } else if constexpr (std::is_same_v<T, scsi::RtpgCdb>) {
          HandleRtpg(s, cmd, c);
        } else if constexpr (std::is_same_v<T, scsi::StpgCdb>) {
          HandleStpg(s, cmd, c);
        }
      },
      decoded);
}

void ExecuteLocked(ArrayState& s, Command& cmd) {
  const CommandRequest& req = cmd.request;
  const auto nexus_it = s.nexuses.find(req.nexus);
  if (nexus_it == s.nexuses.end()) {
    // Not a nexus of ours (a transport bug, or a command racing its logout):
    // ABORTED COMMAND 08/00 LOGICAL UNIT COMMUNICATION FAILURE.
    CheckCondition(cmd.response,
                   scsi::SenseSpec{scsi::SenseKey::kAbortedCommand, {0x08, 0x00}, {}, false});
    return;
  }
  NexusState& nexus = nexus_it->second;
  cmd.port = nexus.port;
  cmd.group = s.ports.at(cmd.port).target_port_group;
  ++s.ports.at(cmd.port).counters.commands;
  const auto lu_it = s.lus.find(req.lun);
  cmd.lu = lu_it == s.lus.end() ? nullptr : &lu_it->second;

  const std::uint8_t opcode = req.cdb.empty() ? 0xFF : scsi::U8(req.cdb, 0);
  const CommandClass cls = ClassOf(opcode);
  if (auto st = StatusFault(s, cmd, cls)) {
    cmd.response.status = *st;
    return;
  }
  const bool ua_exempt = opcode == scsi::op::kInquiry || opcode == scsi::op::kReportLuns ||
                         opcode == scsi::op::kRequestSense;
  if (cmd.lu == nullptr && !ua_exempt) {
    CheckCondition(
        cmd.response,
        scsi::SenseSpec{
            scsi::SenseKey::kIllegalRequest, scsi::asc::kLogicalUnitNotSupported, {}, false});
    return;
  }
  if (!ua_exempt) {
    if (auto ua = TakeUnitAttention(nexus, req.lun)) {
      CheckCondition(cmd.response, scsi::SenseSpec{scsi::SenseKey::kUnitAttention, *ua, {}, false});
      return;
    }
  }
  const auto decoded = scsi::ParseCdb(req.cdb);
  if (!decoded) {
    IllegalRequest(cmd.response, scsi::IllegalRequestFor(decoded.error(), scsi::ErrorSource::kCdb));
    return;
  }
  if (cmd.lu != nullptr) {
    if (auto refusal = AluaRefusal(cmd.lu->groups.at(cmd.group).state, cls)) {
      CheckCondition(cmd.response, scsi::SenseSpec{scsi::SenseKey::kNotReady, *refusal, {}, false});
      return;
    }
    if (auto sense = SenseFault(s, cmd, cls)) {
      CheckCondition(cmd.response, *sense);
      return;
    }
  }
  Dispatch(s, cmd, *decoded, nexus);
}

Expected<LuState> MakeLu(const ArrayConfig& c, const LuConfig& lc) {
  LuState lu;
  lu.config = lc;
  lu.blocks = lc.blocks;
  const std::uint64_t bytes = lc.blocks * lc.block_size;
  if (lc.backing == BackingKind::kSparseFile) {
    auto store = OpenSparseFileStore(lc.backing_path, bytes);
    if (!store) return MakeUnexpected(std::move(store).error());
    lu.store = std::move(*store);
  } else {
    lu.store = MakeMemoryStore(bytes);
  }
  lu.cache.Configure(lc.write_cache, lc.block_size);
  std::optional<std::uint16_t> first_optimized;
  for (const PortConfig& p : c.ports) {
    lu.groups[p.target_port_group] = GroupAlua{};  // TPGS none: all A/O
  }
  for (const GroupStateConfig& g : lc.initial_states) {
    lu.groups[g.target_port_group].state = g.state;
  }
  for (const auto& [id, g] : lu.groups) {
    if (!first_optimized && g.state == AsymmetricAccessState::kActiveOptimized)
      first_optimized = id;
  }
  lu.preferred_group = lc.preferred_group.value_or(first_optimized.value_or(0));
  lu.naa = NaaDesignator(c, lc.lun);
  lu.serial = lc.serial.empty() ? DefaultSerial(c, lc.lun) : lc.serial;
  return lu;
}

}  // namespace

Expected<std::unique_ptr<Array>> Array::Create(const ArrayConfig& config) {
  Status st = CheckConfig(config);
  if (!st.ok()) return MakeUnexpected(std::move(st));
  auto s = std::make_unique<State>();
  s->config = config;
  s->rng.seed(config.seed);
  for (const PortConfig& p : config.ports) {
    s->ports[p.relative_target_port].target_port_group = p.target_port_group;
    s->groups[p.target_port_group].push_back(p.relative_target_port);
  }
  for (auto& [g, ports] : s->groups) std::sort(ports.begin(), ports.end());
  for (const LuConfig& lc : config.lus) {
    auto lu = MakeLu(config, lc);
    if (!lu) return MakeUnexpected(std::move(lu).error());
    s->lus.emplace(lc.lun, std::move(*lu));
  }
  return std::unique_ptr<Array>(new Array(std::move(s)));
}

Array::Array(std::unique_ptr<State> state) : state_(std::move(state)) {}
Array::~Array() = default;

const ArrayConfig& Array::config() const noexcept {
  return state_->config;
}

ItNexusId Array::AttachNexus(std::uint16_t relative_target_port, const std::string& initiator_name,
                             std::uint64_t isid) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  if (s.ports.count(relative_target_port) == 0) return 0;
  const ItNexusId id = s.next_nexus++;
  NexusState& n = s.nexuses[id];
  n.port = relative_target_port;
  n.initiator = initiator_name;
  n.isid = isid;
  // SAM-5 5.14: a new I_T nexus sees power on / reset once per LU.
  for (const auto& [lun, lu] : s.lus) {
    QueueUnitAttention(n, lun, scsi::asc::kPowerOnResetOrBusDeviceReset);
  }
  return id;
}

void Array::DetachNexus(ItNexusId nexus) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->nexuses.erase(nexus);  // its unit attentions go with it
}

CommandResponse Array::Execute(const CommandRequest& request, TimePoint now) {
  CommandResponse response;
  std::lock_guard<std::mutex> lock(state_->mu);
  AdvanceTime(*state_, now);
  Command cmd{request, now, 0, 0, nullptr, response};
  ExecuteLocked(*state_, cmd);
  if (response.status == scsi::ScsiStatus::kCheckCondition && cmd.port != 0) {
    ++state_->ports.at(cmd.port).counters.check_conditions;
  }
  return response;
}

TaskManagementResult Array::LogicalUnitReset(ItNexusId nexus, std::uint64_t lun, TimePoint now) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  AdvanceTime(s, now);
  if (s.nexuses.count(nexus) == 0) return TaskManagementResult::kRejected;
  if (s.lus.count(lun) == 0) return TaskManagementResult::kLunDoesNotExist;
  // SAM-5 6.3.3: 29/03 on every I_T nexus, the requester's included. The
  // write cache is non-volatile as far as a reset goes: data stays.
  QueueUnitAttention(s, lun, scsi::asc::kBusDeviceResetOccurred);
  return TaskManagementResult::kFunctionComplete;
}

Status Array::SetAccessState(std::uint64_t lun, std::uint16_t target_port_group,
                             AsymmetricAccessState state, TimePoint now, bool implicit_transition) {
  std::lock_guard<std::mutex> lock(state_->mu);
  return ChangeGroupState(*state_, lun, target_port_group, state, now, implicit_transition);
}

Expected<GroupStateView> Array::GroupState(std::uint64_t lun, std::uint16_t target_port_group,
                                           TimePoint now) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  AdvanceTime(s, now);
  const auto lu = s.lus.find(lun);
  if (lu == s.lus.end()) {
    return MakeUnexpected(Status(NtStatus::kNoSuchDevice, "array: no LU " + std::to_string(lun)));
  }
  const auto g = lu->second.groups.find(target_port_group);
  if (g == lu->second.groups.end()) {
    return MakeUnexpected(InvalidParameter("array: no group " + std::to_string(target_port_group)));
  }
  return GroupStateView{g->second.state, g->second.pending,
                        lu->second.preferred_group == target_port_group, g->second.status_code};
}

Expected<FaultId> Array::InjectFault(const FaultSpec& fault, TimePoint now) {
  std::unique_lock<std::mutex> lock(state_->mu);
  State& s = *state_;
  AdvanceTime(s, now);
  Status st = ValidateFault(s, fault);
  if (!st.ok()) return MakeUnexpected(std::move(st));
  const FaultId id = s.next_fault++;
  if (fault.kind == FaultKind::kCapacityChange) {
    lock.unlock();
    Status c = SetCapacity(fault.lun, fault.new_blocks);
    if (!c.ok()) return MakeUnexpected(std::move(c));
    return id;  // done at once: nothing stays armed
  }
  s.faults.push_back(ActiveFault{id, fault, fault.count, now + fault.duration});
  return id;
}

Status Array::ClearFault(FaultId id) {
  std::lock_guard<std::mutex> lock(state_->mu);
  const auto n = std::erase_if(state_->faults, [id](const ActiveFault& f) { return f.id == id; });
  return n != 0 ? OkStatus() : InvalidParameter("array: no fault " + std::to_string(id));
}

void Array::ClearFaults() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->faults.clear();
}

Status Array::SetCapacity(std::uint64_t lun, std::uint64_t blocks) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  const auto lu = s.lus.find(lun);
  if (lu == s.lus.end())
    return Status(NtStatus::kNoSuchDevice, "array: no LU " + std::to_string(lun));
  if (blocks == 0 || blocks > kMaxLuBlocks) {
    return InvalidParameter("array: capacity must be 1..2^48 blocks");
  }
  LuState& l = lu->second;
  l.cache.Truncate(blocks);
  Status st = l.store->Resize(blocks * l.config.block_size);
  if (!st.ok()) return st;
  l.blocks = blocks;
  QueueUnitAttention(s, lun, scsi::asc::kCapacityDataChanged);  // SBC-3 4.11
  return OkStatus();
}

namespace {

// SPC-4 6.33: the inventory changed; every nexus hears it through every LU it
// can still address.
void AnnounceLunChange(Array::State& s) {
  for (auto& [id, n] : s.nexuses) {
    for (const auto& [lun, lu] : s.lus)
      QueueUnitAttention(n, lun, scsi::asc::kReportedLunsDataChanged);
  }
}

}  // namespace

Status Array::AddLogicalUnit(const LuConfig& lu) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  if (s.lus.count(lu.lun) != 0) {
    return InvalidParameter("array: LU " + std::to_string(lu.lun) + " exists");
  }
  ArrayConfig next = s.config;
  next.lus.push_back(lu);
  Status st = CheckConfig(next);
  if (!st.ok()) return st;
  auto made = MakeLu(next, lu);
  if (!made) return std::move(made).error();
  AnnounceLunChange(s);  // on the LUs the nexuses knew; the new one starts clean
  s.lus.emplace(lu.lun, std::move(*made));
  s.config = std::move(next);
  return OkStatus();
}

Status Array::RemoveLogicalUnit(std::uint64_t lun) {
  std::lock_guard<std::mutex> lock(state_->mu);
  State& s = *state_;
  if (s.lus.erase(lun) == 0) {
    return Status(NtStatus::kNoSuchDevice, "array: no LU " + std::to_string(lun));
  }
  std::erase_if(s.config.lus, [lun](const LuConfig& c) { return c.lun == lun; });
  for (auto& [id, n] : s.nexuses) n.unit_attentions.erase(lun);
  AnnounceLunChange(s);
  return OkStatus();
}

std::optional<LuConfig> Array::LogicalUnit(std::uint64_t lun) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  const auto it = state_->lus.find(lun);
  if (it == state_->lus.end()) return std::nullopt;
  LuConfig c = it->second.config;
  c.blocks = it->second.blocks;
  return c;
}

Status Array::DropVolatileCache(std::uint64_t lun) {
  std::lock_guard<std::mutex> lock(state_->mu);
  const auto lu = state_->lus.find(lun);
  if (lu == state_->lus.end()) {
    return Status(NtStatus::kNoSuchDevice, "array: no LU " + std::to_string(lun));
  }
  lu->second.cache.Drop();
  return OkStatus();
}

Expected<PortCounters> Array::Counters(std::uint16_t relative_target_port) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  const auto p = state_->ports.find(relative_target_port);
  if (p == state_->ports.end()) {
    return MakeUnexpected(
        InvalidParameter("array: no port " + std::to_string(relative_target_port)));
  }
  return p->second.counters;
}

}  // namespace openmpio::array
