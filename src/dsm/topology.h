// The DSM's model of what it sees: Nexus (one I_T nexus), TargetDevice (group
// membership shared by every LU behind a target), Path (Nexus + LU), Disk (one
// LU with its per-group ALUA state and its policy settings) and Topology (the
// owner of all of them, with the claim rule of DESIGN.md "Identity").
//
// Threading: everything here except NexusCounters is plain data, built and
// changed by one writer (the engine's management/topology thread). Selection
// never reads a Disk: it reads an immutable SelectionSnapshot (snapshot.h)
// built from it, plus the NexusCounters atomics the snapshot points at.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dsm/types.h"
#include "openmpio/expected.h"
#include "openmpio/status.h"
#include "scsi/alua.h"
#include "scsi/vpd.h"

namespace openmpio::dsm {

// ---- Nexus -------------------------------------------------------------------

// What names one iSCSI I_T nexus (RFC 7143: the session identifier is
// initiator name + ISID, the target port is target name + portal group tag).
// The portal is where the session was made, shown to the operator but not part
// of the identity: a session reinstated through another portal of the same
// portal group is the same nexus and keeps its DsmPathId and its saved
// settings. Two paths to one target port are two sessions, so they differ in
// ISID (the runtime gives each configured path its own).
struct NexusIdentity {
  std::string initiator_name;
  std::uint64_t isid = 0;  // 48 bits used
  std::string target_name;
  std::uint16_t portal_group_tag = 0;
  std::string portal;  // "192.0.2.1:3260"
};

// DsmPathId of a nexus: FNV-1a 64 over a length-prefixed encoding of the four
// fields that name it (not the portal) (so ("ab","c") and ("a","bc") differ), stable across
// restarts and builds. Never 0 (MSDSM's query uses id 0 for a failed path) and never
// kNoPreferredPath: those two values are remapped.
[[nodiscard]] DsmPathId MakeDsmPathId(const NexusIdentity& identity) noexcept;

// The per-nexus counters that Least Queue Depth, Least Blocks and service time
// read, counted over every LU behind the nexus, as MSDSM counts them.
//
// Who writes: Policy::StartIo / Policy::EndIo, on any I/O thread (relaxed
// atomic read-modify-write; one RMW per start and one per end). Who reads:
// Policy::Select on any I/O thread (relaxed loads; a stale value only makes a
// choice slightly less balanced, never wrong). throughput and its reciprocal
// are written only by the service-time policy's EndIo (relaxed loads/stores; a
// lost update of a moving average is harmless, and a reader that sees the two
// from different updates gets an estimate one sample old).
//
// The request count and the byte count share one 64-bit word (requests in the
// top 20 bits, bytes in the low 44) so that starting or ending a request is a
// single atomic add, and a reader sees both from the same instant. Limits: about
// one million requests and 16 TiB in flight per nexus, far above any queue
// depth the engine allows; a single transfer counts as at most 1 TiB - 1, so
// only 16 such transfers at once could carry into the request count.
class alignas(64) NexusCounters {
 public:
  static constexpr unsigned kByteBits = 44;
  static constexpr std::uint64_t kByteMask = (std::uint64_t{1} << kByteBits) - 1;
  static constexpr std::uint64_t kOneRequest = std::uint64_t{1} << kByteBits;
  static constexpr std::uint64_t kMaxCountedTransfer = (std::uint64_t{1} << 40) - 1;
  // A path nobody has measured yet is assumed to move this many bytes per
  // second ([C] 100 MB/s, a slow gigabit link), so it is tried, not shunned.
  static constexpr std::uint64_t kInitialThroughput = 100'000'000;

  void StartIo(std::uint64_t bytes) noexcept {
    in_flight_.fetch_add(kOneRequest + Clamp(bytes), std::memory_order_relaxed);
  }
  // bytes must be what the matching StartIo was given.
  void EndIo(std::uint64_t bytes) noexcept {
    in_flight_.fetch_sub(kOneRequest + Clamp(bytes), std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t raw() const noexcept {
    return in_flight_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] static std::uint32_t RequestsOf(std::uint64_t raw) noexcept {
    return static_cast<std::uint32_t>(raw >> kByteBits);
  }
  [[nodiscard]] static std::uint64_t BytesOf(std::uint64_t raw) noexcept { return raw & kByteMask; }
  [[nodiscard]] std::uint32_t outstanding_requests() const noexcept { return RequestsOf(raw()); }
  [[nodiscard]] std::uint64_t outstanding_bytes() const noexcept { return BytesOf(raw()); }

  // Bytes per second, a moving average; never 0.
  [[nodiscard]] std::uint64_t throughput() const noexcept {
    return throughput_.load(std::memory_order_relaxed);
  }
  // 1 / throughput() as a double (relative error <= 2^-52): service
  // time's scan multiplies by it instead of dividing or cross-multiplying.
  [[nodiscard]] double seconds_per_byte() const noexcept {
    return seconds_per_byte_.load(std::memory_order_relaxed);
  }
  // The words themselves, for service time's vector scan (policy_st.cpp), which
  // loads them straight into SSE registers.
  [[nodiscard]] const std::atomic<std::uint64_t>& in_flight_word() const noexcept {
    return in_flight_;
  }
  [[nodiscard]] const std::atomic<double>& seconds_per_byte_word() const noexcept {
    return seconds_per_byte_;
  }
  // Stores the throughput (0 counts as 1) and its reciprocal.
  void set_throughput(std::uint64_t bytes_per_second) noexcept {
    const std::uint64_t tp = bytes_per_second == 0 ? 1 : bytes_per_second;
    throughput_.store(tp, std::memory_order_relaxed);
    seconds_per_byte_.store(1.0 / static_cast<double>(tp), std::memory_order_relaxed);
  }

 private:
  static std::uint64_t Clamp(std::uint64_t bytes) noexcept {
    return bytes > kMaxCountedTransfer ? kMaxCountedTransfer : bytes;
  }
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> throughput_{kInitialThroughput};
  std::atomic<double> seconds_per_byte_{1.0 / static_cast<double>(kInitialThroughput)};
  static_assert(sizeof(std::atomic<double>) == 8 && std::atomic<double>::is_always_lock_free);
};

// One I_T nexus: our session to one target port, serving every LU behind it.
// Created by Topology::AddNexus; its address is stable (held by shared_ptr) so
// snapshots may point at its counters. id and identity never change.
struct Nexus {
  DsmPathId id = 0;
  NexusIdentity identity;
  NexusCounters counters;
};

// ---- Target device and groups -------------------------------------------------

// Which target ports form group id (RTPG, SPC-4 6.36): a property of the
// target device, shared by every LU behind it. The state of the group is per LU
// (LuGroupState below).
struct TargetPortGroup {
  std::uint16_t id = 0;
  std::vector<std::uint16_t> relative_target_ports;
};

// One target device, as far as we can tell: the iSCSI target name and the
// target-device designators (VPD 0x83 association 10) that its paths reported.
struct TargetDevice {
  std::string target_name;
  std::vector<scsi::Designator> designators;
  std::vector<TargetPortGroup> groups;

  // The group that lists this relative target port; nullptr if none does.
  [[nodiscard]] const TargetPortGroup* GroupOfPort(std::uint16_t relative_target_port) const;
};

// ---- Path and Disk ---------------------------------------------------------------

// The state of one target port group for one LU, from the last RTPG.
struct LuGroupState {
  std::uint16_t tpg_id = 0;
  scsi::AccessStateField state;  // SPC state; a reserved value is kept raw
  bool preferred = false;        // PREF bit
  scsi::SupportedStates supported;
  // When (ms, caller's clock) the state was last seen to change; bounds the
  // Transitioning window (DESIGN.md "Timers").
  std::uint64_t since_ms = 0;
};

// Where the path is in its life (MSDSM: "initialized", "failed").
enum class PathVerification : std::uint8_t {
  kInitializing,  // claimed, discovery not finished: not usable, not in a set's check 9
  kOnline,        // verified: usable if its MSDSM state allows
  kFailed,        // online once, now failed (transport error, verification failed)
};

// One path: a Nexus and this Disk's LU. Its DsmPathId is the Nexus's id, the
// same for every LU behind the nexus.
struct Path {
  std::shared_ptr<Nexus> nexus;  // never null in a Disk
  std::uint16_t relative_target_port = 0;
  // The group this path's port belongs to (VPD 0x83 type 5, or RTPG membership);
  // nullopt on non-ALUA storage or when the target reports none.
  std::optional<std::uint16_t> tpg_id;
  PathVerification verification = PathVerification::kInitializing;

  // Settings of DsmSetLoadBalancePolicy* (spec/msdsm.md §4 "On success").
  std::uint32_t weight = 0;  // Weighted Paths; kept across other policies' sets
  // The state a set asked for, when it persists (symmetric storage, FOO, RRWS
  // where it differs from the group); nullopt: follow the group.
  std::optional<PathState> requested_state;

  [[nodiscard]] DsmPathId id() const noexcept { return nexus->id; }
  [[nodiscard]] bool online() const noexcept { return verification == PathVerification::kOnline; }
};

// What discovery learnt about a would-be path (standard INQUIRY, VPD 0x83, the
// login), for Topology::Claim.
struct PathCandidate {
  std::uint8_t peripheral_qualifier = 0;    // INQUIRY byte 0 bits 7..5
  std::uint8_t peripheral_device_type = 0;  // INQUIRY byte 0 bits 4..0
  scsi::Designator lu_designator;           // VPD 0x83 LU identity (vpd.h ChooseLuIdentity)
  std::string target_name;                  // iSCSI target name of the session
  std::vector<scsi::Designator> target_device_designators;  // VPD 0x83 association 10
  std::uint16_t relative_target_port = 0;
  std::optional<std::uint16_t> tpg_id;            // VPD 0x83 type 5
  AluaSupport alua = AluaSupport::kNotSupported;  // INQUIRY TPGS
  std::shared_ptr<Nexus> nexus;
};

// The policy settings of a LU (spec/msdsm.md §4 "On success").
struct PolicySettings {
  // The policy in force (already resolved through the precedence of spec §3 by
  // the management layer); kNone: DefaultPolicy(disk).
  LoadBalancePolicy policy = LoadBalancePolicy::kNone;
  bool explicit_policy = false;  // set on this LUN (mpclaim -l -d)
  // FOO's failback target; kNoPreferredPath when none. A non-FOO set leaves it.
  DsmPathId preferred_path = kNoPreferredPath;
};

// One LU seen through one or more paths. Plain data; single writer.
struct Disk {
  scsi::Designator lu_designator;
  std::shared_ptr<TargetDevice> device;  // never null
  std::vector<Path> paths;               // in claim order = MSDSM's path order

  AluaSupport alua = AluaSupport::kNotSupported;
  // spec/msdsm.md §3: ALUA not supported, or implicit-only ALUA with every group
  // in the same state; set at path arrival, cleared by a later RTPG that shows a
  // difference. Explicit ALUA is never symmetric.
  bool symmetric_access = true;
  std::vector<LuGroupState> groups;  // per (LU, TPG), from RTPG
  // IMPLICIT TRANSITION TIME of the last extended-format RTPG (seconds);
  // nullopt: the target gave none (DESIGN.md "Timers": assume 60 s).
  std::optional<std::uint8_t> implicit_transition_time_s;

  PolicySettings settings;

  [[nodiscard]] std::size_t path_count() const noexcept { return paths.size(); }
  // Index into paths, or nullopt.
  [[nodiscard]] std::optional<std::size_t> IndexOf(DsmPathId id) const noexcept;
  [[nodiscard]] Path* FindPath(DsmPathId id) noexcept;
  [[nodiscard]] const Path* FindPath(DsmPathId id) const noexcept;
  // The group state of a path's group for this LU; nullptr on non-ALUA storage,
  // when the path has no group, or when RTPG did not list it.
  [[nodiscard]] const LuGroupState* GroupStateOf(const Path& path) const noexcept;
  [[nodiscard]] const LuGroupState* GroupState(std::uint16_t tpg_id) const noexcept;
  // The transition window in ms (implicit transition time, else 60 s).
  [[nodiscard]] std::uint64_t TransitionWindowMs() const noexcept;

  // Why this candidate cannot join this Disk; OK when it can (DESIGN.md
  // "Identity"): same LU designator, same target device (same target name or a
  // common target-device designator), nexus not already a path, room left.
  [[nodiscard]] Status CanClaim(const PathCandidate& c) const;

  // Records an RTPG answer for this LU: the per-group states (replacing the old
  // list), the implicit transition time, and clears symmetric_access when the
  // states differ or ALUA is explicit (spec §3). since_ms of a group is now_ms
  // when its state changed, else kept.
  void UpdateGroups(std::span<const LuGroupState> states,
                    std::optional<std::uint8_t> implicit_transition_time_s, std::uint64_t now_ms);
  // Marks a path online / failed / initializing. NoSuchDevice if not a path here.
  [[nodiscard]] Status SetVerification(DsmPathId id, PathVerification v);
};

// spec/msdsm.md §3 precedence, last step: Round Robin on non-ALUA storage,
// Round Robin with Subset on ALUA storage.
[[nodiscard]] LoadBalancePolicy DefaultPolicy(const Disk& disk) noexcept;
// settings.policy, or DefaultPolicy when kNone; a default RR becomes RRWS on
// non-symmetric access; 7 under strict_msdsm becomes the default.
[[nodiscard]] LoadBalancePolicy EffectivePolicy(const Disk& disk,
                                                const DsmOptions& options) noexcept;
// Policies a set may choose for this LU (DSM_QuerySupportedLBPolicies_V2): 1..6
// minus RR when access is not symmetric (spec §3), plus 7 unless strict_msdsm.
[[nodiscard]] std::vector<LoadBalancePolicy> SupportedPolicies(const Disk& disk,
                                                               const DsmOptions& options);

// Designator equality for identity: association, type and value (code set and
// PIV are presentation). Empty or all-zero values never match anything.
[[nodiscard]] bool SameIdentity(const scsi::Designator& a, const scsi::Designator& b) noexcept;

// The owner of nexuses, target devices and disks. Single writer.
class Topology {
 public:
  // The nexus with this identity, created when new. Its id is MakeDsmPathId.
  std::shared_ptr<Nexus> AddNexus(const NexusIdentity& identity);
  [[nodiscard]] std::shared_ptr<Nexus> FindNexus(DsmPathId id) const;

  // Claims a path (DESIGN.md "Identity"): into the Disk with the same LU
  // designator when the targets are one device; a new Disk when no Disk has
  // that designator. Refused (InvalidDeviceRequest, with the reason) for a
  // peripheral type/qualifier other than 0, an empty or all-zero designator, a
  // designator match on a different target device, a duplicate nexus, or more
  // than kMaxPathsPerDisk paths. The new path starts kInitializing.
  [[nodiscard]] Expected<Disk*> Claim(const PathCandidate& candidate);

  [[nodiscard]] Disk* FindDisk(const scsi::Designator& lu) noexcept;
  [[nodiscard]] const std::vector<std::unique_ptr<Disk>>& disks() const noexcept { return disks_; }
  [[nodiscard]] const std::vector<std::shared_ptr<TargetDevice>>& devices() const noexcept {
    return devices_;
  }

 private:
  std::shared_ptr<TargetDevice> DeviceFor(const PathCandidate& c);

  std::vector<std::shared_ptr<Nexus>> nexuses_;
  std::vector<std::shared_ptr<TargetDevice>> devices_;
  std::vector<std::unique_ptr<Disk>> disks_;
};

}  // namespace openmpio::dsm
