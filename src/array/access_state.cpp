// ALUA: what each state allows (spec/scsi-alua.md, SPC-4 5.15.2.4), RTPG
// (SPC-4 6.36), STPG (SPC-4 6.44), state changes and implicit transitions.
#include <chrono>

#include "array/array_state.h"
#include "scsi/rtpg.h"
#include "scsi/stpg.h"

namespace openmpio::array {
namespace {

using scsi::asc::kAluaStateChanged;

bool IsSettable(AsymmetricAccessState s) noexcept {
  return s == AsymmetricAccessState::kActiveOptimized ||
         s == AsymmetricAccessState::kActiveNonOptimized ||
         s == AsymmetricAccessState::kStandby || s == AsymmetricAccessState::kUnavailable ||
         s == AsymmetricAccessState::kOffline;
}

}  // namespace

std::optional<scsi::AscAscq> AluaRefusal(AsymmetricAccessState state, CommandClass c) noexcept {
  // Management commands answer in every state; MODE SENSE also in Standby
  // (SPC-4 5.15.2.4.4 lists it, 5.15.2.4.5 Unavailable does not). READ
  // CAPACITY is media access here: neither list names it, and
  // spec/scsi-alua.md sends discovery's READ CAPACITY to an active path.
  if (c == CommandClass::kManagement || c == CommandClass::kUnknown) return std::nullopt;
  switch (state) {
    case AsymmetricAccessState::kActiveOptimized:
    case AsymmetricAccessState::kActiveNonOptimized:
    case AsymmetricAccessState::kLogicalBlockDependent:
      return std::nullopt;
    case AsymmetricAccessState::kStandby:
      if (c == CommandClass::kModeSense) return std::nullopt;
      return scsi::asc::kAluaStandby;
    case AsymmetricAccessState::kUnavailable:
      return scsi::asc::kAluaUnavailable;
    case AsymmetricAccessState::kOffline:
      return scsi::asc::kLogicalUnitOffline;
    case AsymmetricAccessState::kTransitioning:
      return scsi::asc::kAluaTransition;
  }
  return scsi::asc::kAluaUnavailable;
}

scsi::SupportedStates SupportedStatesOf(const ArrayConfig& c) noexcept {
  // T_SUP: implicit transitions pass through Transitioning (SPC-4 5.15.2.5).
  scsi::SupportedStates s = c.stpg_states;
  if (scsi::SupportsImplicit(c.tpgs)) s = s.With(scsi::SupportedStates::kTSup);
  return s;
}

void AdvanceTime(ArrayState& s, TimePoint now) {
  for (auto& [lun, lu] : s.lus) {
    for (auto& [id, g] : lu.groups) {
      if (g.pending && now >= g.deadline) {
        g.state = *g.pending;
        g.pending.reset();
        g.status_code = static_cast<std::uint8_t>(scsi::TpgStatusCode::kAlteredByImplicitBehavior);
        QueueUnitAttention(s, lun, kAluaStateChanged);
      }
    }
  }
  std::erase_if(s.faults, [now](const ActiveFault& f) {
    return f.spec.kind == FaultKind::kTransitionStorm && now >= f.deadline;
  });
}

Status ChangeGroupState(ArrayState& s, std::uint64_t lun, std::uint16_t group,
                        AsymmetricAccessState state, TimePoint now, bool implicit_transition) {
  if (s.config.tpgs == scsi::Tpgs::kNone) {
    return Status(NtStatus::kNotSupported, "array: TPGS none, no ALUA states to set");
  }
  const auto lu = s.lus.find(lun);
  if (lu == s.lus.end()) {
    return Status(NtStatus::kNoSuchDevice, "array: no LU " + std::to_string(lun));
  }
  const auto g = lu->second.groups.find(group);
  if (g == lu->second.groups.end()) {
    return InvalidParameter("array: no target port group " + std::to_string(group));
  }
  if (!IsSettable(state)) {
    return InvalidParameter("array: the target of a change is A/O, A/N, Standby, Unavailable "
                            "or Offline");
  }
  AdvanceTime(s, now);
  GroupAlua& ga = g->second;
  ga.status_code = static_cast<std::uint8_t>(scsi::TpgStatusCode::kAlteredByImplicitBehavior);
  if (implicit_transition && s.config.implicit_transition_time > Duration::zero()) {
    ga.state = AsymmetricAccessState::kTransitioning;
    ga.pending = state;
    ga.deadline = now + s.config.implicit_transition_time;
    QueueUnitAttention(s, lun, kAluaStateChanged);
    return OkStatus();
  }
  const bool changed = ga.state != state || ga.pending.has_value();
  ga.state = state;
  ga.pending.reset();
  if (changed) QueueUnitAttention(s, lun, kAluaStateChanged);
  return OkStatus();
}

void HandleRtpg(ArrayState& s, Command& cmd, const scsi::RtpgCdb& cdb) {
  if (s.config.tpgs == scsi::Tpgs::kNone) {
    // No ALUA: the MAINTENANCE IN service action is not supported, which
    // SPC-4 answers with INVALID FIELD IN CDB at the service action (byte 1),
    // as tgt does (tests/data/captures/tgt/rtpg.sense.bin).
    IllegalField(cmd.response, 0x24, true, 1);
    return;
  }
  scsi::RtpgData data;
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(s.config.implicit_transition_time).count();
  data.implicit_transition_time = static_cast<std::uint8_t>(seconds);
  const scsi::SupportedStates supported = SupportedStatesOf(s.config);
  for (const auto& [id, ports] : s.groups) {
    const GroupAlua& g = cmd.lu->groups.at(id);
    scsi::TargetPortGroupDescriptor d;
    d.pref = id == cmd.lu->preferred_group;
    d.state = scsi::AccessStateField::From(g.state);
    d.supported = supported;
    d.target_port_group = id;
    d.status_code = g.status_code;
    d.relative_target_ports = ports;
    data.groups.push_back(std::move(d));
  }
  const std::size_t room = Room(cmd.request, cdb.allocation_length);
  const std::size_t full = scsi::EncodeRtpg(data, cdb.format, cmd.request.data_in.first(room));
  GoodWithData(cmd.response, full, room);
}

void HandleStpg(ArrayState& s, Command& cmd, const scsi::StpgCdb& cdb) {
  if (!scsi::SupportsExplicit(s.config.tpgs)) {
    // Without explicit ALUA the MAINTENANCE OUT service action is not
    // supported: INVALID FIELD IN CDB at byte 1 (SPC-4 6.44 requires
    // ILLEGAL REQUEST; 24/00 rather than 20/00 because the opcode itself is
    // one the device server knows, as for RTPG without ALUA).
    IllegalField(cmd.response, 0x24, true, 1);
    return;
  }
  if (cdb.parameter_list_length == 0) {  // SPC-4 6.44: not an error
    GoodWithData(cmd.response, 0, 0);
    return;
  }
  if (cmd.request.data_out.size() < cdb.parameter_list_length) {
    CheckCondition(cmd.response,
                   scsi::SenseSpec{scsi::SenseKey::kIllegalRequest, {0x1A, 0x00}, {}, false});
    return;
  }
  const auto list = scsi::ParseStpgParameterList(
      cmd.request.data_out.first(cdb.parameter_list_length));
  if (!list) {
    IllegalRequest(cmd.response,
                   scsi::IllegalRequestFor(list.error(), scsi::ErrorSource::kParameterList));
    return;
  }
  // Check every descriptor before changing anything: all or nothing.
  const scsi::SupportedStates supported = s.config.stpg_states;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const scsi::StpgDescriptor& d = (*list)[i];
    const std::size_t at = scsi::kStpgHeaderLength + i * scsi::kStpgDescriptorLength;
    if (cmd.lu->groups.count(d.target_port_group) == 0) {
      IllegalField(cmd.response, 0x26, false, static_cast<std::uint16_t>(at + 2));
      return;
    }
    if (!supported.Supports(d.state)) {
      IllegalField(cmd.response, 0x26, false, static_cast<std::uint16_t>(at));
      return;
    }
  }
  bool changed = false;
  for (const scsi::StpgDescriptor& d : *list) {
    GroupAlua& g = cmd.lu->groups.at(d.target_port_group);
    if (g.state == d.state && !g.pending) continue;
    g.state = d.state;
    g.pending.reset();  // an explicit request ends an implicit transition
    g.status_code = static_cast<std::uint8_t>(scsi::TpgStatusCode::kAlteredBySetTargetPortGroups);
    changed = true;
  }
  // SPC-4 5.15.2.2: every other I_T nexus learns of it by a unit attention.
  if (changed) QueueUnitAttention(s, cmd.lu->config.lun, kAluaStateChanged, cmd.request.nexus);
  GoodWithData(cmd.response, 0, 0);
}

}  // namespace openmpio::array
