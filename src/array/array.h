// The array model: one SCSI target device with target ports grouped into
// target port groups, logical units with real contents, ALUA state per
// (LU, group), unit attentions per I_T nexus, and injectable faults. It is a
// product feature (DESIGN.md "What the sim is"): the demo's embedded array,
// the benchmarks' load, and the model behind `mpio-array`.
//
// Every answer is built with the src/scsi codecs. Execution is synchronous:
// queueing, latency, held commands and ABORT TASK belong to the transport in
// front of it. Time is a parameter: implicit transitions and timed faults are
// a state plus a deadline, evaluated whenever a call arrives with a later
// `now`; the array reads no clock and starts no thread.
//
// Threading: every public method takes one mutex (device_server.h contract).
//
// LUN numbering: CommandRequest::lun and every `lun` below is the LU number
// (0..16383) as ArrayConfig lists it, not the 8-byte SAM LUN field.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "array/device_server.h"
#include "common/executor.h"
#include "openmpio/expected.h"
#include "openmpio/status.h"
#include "scsi/alua.h"
#include "scsi/cdb.h"
#include "scsi/inquiry.h"
#include "scsi/sense.h"

namespace openmpio::array {

using scsi::AsymmetricAccessState;

struct PortConfig {
  std::uint16_t relative_target_port = 1;  // never 0 (SPC-4 7.8.6.7 reserves it)
  std::uint16_t target_port_group = 1;     // never 0
};

struct GroupStateConfig {
  std::uint16_t target_port_group = 1;
  AsymmetricAccessState state = AsymmetricAccessState::kActiveOptimized;
};

enum class BackingKind : std::uint8_t {
  kMemory,      // sparse, in process memory (64 KiB chunks on first write)
  kSparseFile,  // a sparse file (pread/pwrite, fallocate PUNCH_HOLE)
};

struct LuConfig {
  std::uint64_t lun = 0;           // 0..kMaxLun
  std::uint64_t blocks = 0;        // capacity in logical blocks, 1..kMaxLuBlocks
  std::uint32_t block_size = 512;  // 512, 1024, 2048 or 4096
  // The access state of this LU through each group: every group must be
  // listed once (with TPGS none the list may be empty: every port is active).
  // Transitioning and logical-block dependent are not initial states.
  std::vector<GroupStateConfig> initial_states;
  // The group reported with PREF = 1 for this LU; default: the first group
  // whose initial state is Active/Optimized.
  std::optional<std::uint16_t> preferred_group;
  BackingKind backing = BackingKind::kMemory;
  std::string backing_path;  // kSparseFile: created / extended to the capacity
  bool write_cache = true;   // WCE: writes are volatile until SYNCHRONIZE CACHE / FUA
  bool thin = true;          // LBPME: UNMAP and WRITE SAME with UNMAP free blocks
  std::string serial;        // VPD 0x80; default derived from target name and LUN
};

struct ArrayConfig {
  std::string target_name = "iqn.2024-01.org.openmpio:array";  // iSCSI name, SCSI name string
  std::string vendor = "OPENMPIO";    // INQUIRY, at most 8 ASCII characters
  std::string product = "SIM ARRAY";  // at most 16
  std::string revision = "0001";      // at most 4
  scsi::Tpgs tpgs = scsi::Tpgs::kBoth;
  // Implicit transitions stay in Transitioning this long; also the IMPLICIT
  // TRANSITION TIME of RTPG's extended header (whole seconds, 0..255).
  Duration implicit_transition_time = std::chrono::seconds(2);
  // States an STPG may request (SUPPORTED bits of RTPG, SPC-4 6.36 table
  // 166). T_SUP is added by the array when TPGS has the implicit bit.
  scsi::SupportedStates stpg_states = scsi::SupportedStates{}
                                          .With(scsi::SupportedStates::kAoSup)
                                          .With(scsi::SupportedStates::kAnSup)
                                          .With(scsi::SupportedStates::kSSup)
                                          .With(scsi::SupportedStates::kUSup)
                                          .With(scsi::SupportedStates::kOSup);
  std::uint32_t ieee_company_id = 0x0A0B0C;  // 24-bit OUI of the NAA 6 LU designators
  // Block limits (VPD 0xB0), in blocks; 0 = no limit reported.
  std::uint32_t maximum_transfer_length = 16384;
  std::uint32_t maximum_unmap_lba_count = 1U << 20;
  std::uint32_t maximum_unmap_descriptor_count = 256;
  std::vector<PortConfig> ports;
  std::vector<LuConfig> lus;
  std::uint64_t seed = 1;  // fault probabilities and corruption patterns
};

// The limits CheckConfig enforces; SetCapacity and capacity faults use the
// same block limit.
inline constexpr std::uint64_t kMaxLun = 16383;  // flat space addressing (SAM-5 4.7)
inline constexpr std::uint64_t kMaxLuBlocks = std::uint64_t{1} << 48;
// RTPG's TARGET PORT COUNT is one byte (SPC-4 6.36 table 167): a group with
// more ports could not list them all.
inline constexpr std::size_t kMaxPortsPerGroup = 255;

// Every check Array::Create makes before it builds anything (Create calls
// it): names and identities, ports and groups, and each LU (LUN, block size,
// 1..kMaxLuBlocks blocks, backing, serial, initial states, preferred
// group). STATUS_INVALID_PARAMETER naming the first mistake, or OK. Pure:
// it opens no file, so Create may still fail to open a sparse file.
[[nodiscard]] Status CheckConfig(const ArrayConfig& config);

// The demo shape: 2 groups x 2 ports (ports 1,2 in group 1; 3,4 in group 2),
// LU 0 A/O through group 1 and A/N through group 2, LU 1 the opposite (per-LU
// ownership as dual-controller arrays have it), TPGS implicit + explicit,
// memory backing, `blocks` of 512 bytes each.
[[nodiscard]] ArrayConfig DemoArrayConfig(std::uint64_t blocks = 2 * 1024 * 1024);

// ---- faults --------------------------------------------------------------------

enum class FaultScope : std::uint8_t { kPort, kLogicalUnit };

enum class FaultKind : std::uint8_t {
  kStatus,           // answer `status` (BUSY, TASK SET FULL, ...) without sense
  kSense,            // CHECK CONDITION with `sense` (deferred: response code 0x71)
  kTransitionStorm,  // NOT READY 04/0A for `duration` from injection
  kCorruptRead,      // READ returns blocks [first_lba, first_lba + block_count) damaged
  kCapacityChange,   // the LU becomes `new_blocks` long at once; UA 2A/09 everywhere
};

// Which commands a fault hits. Media: READ, WRITE, WRITE SAME, UNMAP,
// SYNCHRONIZE CACHE, READ CAPACITY, TEST UNIT READY. All: every command.
enum class FaultCommands : std::uint8_t { kMedia, kAll };

struct FaultSpec {
  FaultScope scope = FaultScope::kLogicalUnit;
  std::uint16_t relative_target_port = 0;  // kPort
  std::uint64_t lun = 0;  // kLogicalUnit, and the LU of kCorruptRead / kCapacityChange
  FaultKind kind = FaultKind::kStatus;
  FaultCommands commands = FaultCommands::kMedia;
  scsi::ScsiStatus status = scsi::ScsiStatus::kBusy;  // kStatus: not GOOD nor CHECK CONDITION
  scsi::SenseSpec sense{};                            // kSense
  Duration duration{};                                // kTransitionStorm
  std::uint64_t first_lba = 0;                        // kCorruptRead
  std::uint64_t block_count = 1;                      // kCorruptRead
  std::uint64_t new_blocks = 0;                       // kCapacityChange
  // How many commands it hits before it retires itself (0 = until cleared),
  // each hit with this probability (seeded RNG, deterministic).
  std::uint32_t count = 0;
  double probability = 1.0;
};

using FaultId = std::uint64_t;  // never 0

struct PortCounters {
  std::uint64_t commands = 0;
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;  // WRITE and WRITE SAME
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t check_conditions = 0;
};

// What RTPG would say for one (LU, group), for tests and the demo.
struct GroupStateView {
  AsymmetricAccessState state = AsymmetricAccessState::kActiveOptimized;
  std::optional<AsymmetricAccessState> pending;  // target of an implicit transition
  bool preferred = false;
  std::uint8_t status_code = 0;  // SPC-4 6.36 table 168
};

class Array final : public DeviceServer {
 public:
  // Checks `config` with CheckConfig (every mistake is
  // STATUS_INVALID_PARAMETER with a message naming it); a sparse file that
  // cannot be opened is STATUS_IO_DEVICE_ERROR.
  [[nodiscard]] static Expected<std::unique_ptr<Array>> Create(const ArrayConfig& config);
  ~Array() override;
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;

  // ---- DeviceServer ----
  ItNexusId AttachNexus(std::uint16_t relative_target_port, const std::string& initiator_name,
                        std::uint64_t isid) override;
  void DetachNexus(ItNexusId nexus) override;
  CommandResponse Execute(const CommandRequest& request, TimePoint now) override;
  TaskManagementResult LogicalUnitReset(ItNexusId nexus, std::uint64_t lun, TimePoint now) override;

  // ---- control ----
  // Changes the state of (lun, group) as the array itself would (RTPG status
  // code 2, UA 2A/06 on every nexus). With implicit_transition the group
  // first passes through Transitioning for the implicit transition time
  // (UA when it enters and when it leaves). Transitioning / LBD are not
  // targets; TPGS none has no states to set (STATUS_NOT_SUPPORTED).
  [[nodiscard]] Status SetAccessState(std::uint64_t lun, std::uint16_t target_port_group,
                                      AsymmetricAccessState state, TimePoint now,
                                      bool implicit_transition = false);
  [[nodiscard]] Expected<GroupStateView> GroupState(std::uint64_t lun,
                                                    std::uint16_t target_port_group, TimePoint now);

  [[nodiscard]] Expected<FaultId> InjectFault(const FaultSpec& fault, TimePoint now);
  [[nodiscard]] Status ClearFault(FaultId id);
  void ClearFaults();
  // Capacity change (also FaultKind::kCapacityChange): UA 2A/09 for every nexus.
  [[nodiscard]] Status SetCapacity(std::uint64_t lun, std::uint64_t blocks);
  // Power loss of the write cache: unflushed writes of `lun` are lost.
  [[nodiscard]] Status DropVolatileCache(std::uint64_t lun);
  // LU inventory changes, as an array's administrator makes them: the LU
  // appears in (or leaves) REPORT LUNS at once, and every I_T nexus gets UA
  // 3F/0E REPORTED LUNS DATA HAS CHANGED (SPC-4 6.33) on each LU it had
  // before the change and still has (a new LU starts without one).
  // A new LU is validated as ArrayConfig::lus entries are (its LUN must be
  // free); removing a LU drops its data. Both are reflected in config().
  [[nodiscard]] Status AddLogicalUnit(const LuConfig& lu);
  [[nodiscard]] Status RemoveLogicalUnit(std::uint64_t lun);

  // LU `lun` as it is now (blocks: its current capacity), or nullopt.
  [[nodiscard]] std::optional<LuConfig> LogicalUnit(std::uint64_t lun) const;
  [[nodiscard]] Expected<PortCounters> Counters(std::uint16_t relative_target_port) const;
  [[nodiscard]] const ArrayConfig& config() const noexcept;

  struct State;  // array_state.h: the handlers' view

 private:
  explicit Array(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace openmpio::array
