// The sim transport: an in-process "network" between SimNexus initiator
// sessions and a DeviceServer (the array model), with a per-target-port link
// model and link faults. Deterministic on a ManualExecutor.
//
// The model, per command (DESIGN.md "What the sim is", "Write fencing"):
//   Submit -> the command travels the port's link (payload / bandwidth, then
//   latency + extra delay; FIFO per connection) -> arrives at the target
//   session, unless that session was closed (logout, reinstatement): then it
//   is discarded -> waits service_time in the target's task set, where ABORT
//   TASK and LOGICAL UNIT RESET can still take it -> DeviceServer::Execute ->
//   the answer travels the link back -> the nexus completes it.
//
// Faults, per target port:
//   Hang     every message on the port's connections (commands, answers, TMFs
//            and their answers, logins) is held IN THE LINK, in order, until
//            Release. Nothing held reaches the array.
//   Release  everything held arrives at once, in order (a stuck TCP flow
//            that unsticks delivers its backlog back to back). A command that reaches a session
//            still open at the target executes — a late TCP delivery; one whose session was ended
//            is discarded.
//   Drop     every connection through the port is lost now: the nexuses fail
//            and their outstanding commands complete kConnectionLost. What the
//            dead connections had in the link is lost — unless the port was
//            hung: then it stays stranded in the hung link and is delivered on
//            Release (to a target session that may still be open: connection
//            loss is not a fence). A Drop ends the hang for new connections,
//            so a test can reconnect (reinstate the session) while the old
//            connection's data is still held.
//   Delay    extra one-way latency for messages sent from now on.
//   RefuseReconnect  logins through the port are refused (Connect fails with
//            STATUS_DEVICE_NOT_READY and a message naming the port).
//   Restore  clears every fault of the port (and releases what was held).
//
// Target-side session semantics the engine's fences rely on:
//   ABORT TASK (RFC 7143 11.5.1, RefCmdSN): a task in the target's task set,
//     not executed: removed, FUNCTION COMPLETE, it never executes; the
//     nexus completes it kAborted. A task the target does not hold (already
//     executed — its answer is ahead of the TMF answer in the link — or its
//     session ended): TASK DOES NOT EXIST (RFC 7143 11.5.1 c: the RefCmdSN is
//     outside the window). The TMF travels the same connection as the command
//     (FIFO), so it can never overtake it: the "not arrived yet, discard on
//     arrival" case of 11.5.1 b cannot arise with one connection per session.
//   LOGICAL UNIT RESET: DeviceServer::LogicalUnitReset (29/03 for every nexus),
//     then every task of that LU in the task set, of every session, is
//     aborted. The issuer's complete kAborted on FUNCTION COMPLETE; other
//     sessions' tasks are answered with status TASK ABORTED (TAS=1, SPC-4
//     7.5.7 Control mode page) through their own links.
//   Session reinstatement: Connect after a failure logs in again with the
//     same initiator name and ISID; the target detaches the old session
//     (DeviceServer::DetachNexus), discards its tasks, and discards its
//     commands still held in the link when they arrive.
//   Logout: the target ends the session (its held tasks are discarded), so the
//     nexus completes what is still outstanding kAborted.
//
// Threading: every SimNexus runs on its own executor (several nexuses may
// share one). The fabric's shared state (ports, sessions, task set) is under
// one mutex; calls into the DeviceServer are made with it held, so a command's
// execution and a concurrent LU reset or abort are atomic with respect to
// each other. Fault control calls are thread-safe: flags (Hang, Delay,
// RefuseReconnect) take effect at once; effects on a nexus (Drop's connection
// loss, Release's deliveries) are posted to that nexus's executor, so on a
// ManualExecutor they happen at the next RunUntilIdle.
//
// Lifetime: nexuses are destroyed before the fabric, the fabric before the
// executors run again (pending control posts refer to it); the DeviceServer
// outlives the fabric unless the fabric owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "array/device_server.h"
#include "common/executor.h"
#include "transport/transport.h"

namespace openmpio::transport::sim {

class SimNexus;

struct LinkModel {
  Duration latency{0};  // one way, each direction
  // Payload bytes per second, per direction, shared by every connection of
  // the port (a command's data-out, an answer's data-in; headers are free);
  // 0: unlimited.
  std::uint64_t bandwidth_bytes_per_second = 0;
  // How long a command waits in the target's task set before it executes.
  Duration service_time{0};
};

// What the port carried to and from the target (counted on arrival).
struct PortCounters {
  std::uint64_t commands = 0;
  std::uint64_t bytes_out = 0;  // data-out delivered to the target
  std::uint64_t bytes_in = 0;   // data-in sent back by the target
  std::uint64_t task_management = 0;
  std::uint64_t logins = 0;
  std::uint64_t discarded = 0;  // commands of an ended session, dropped on arrival
};

struct SimNexusOptions {
  std::string initiator_name = "iqn.2024-01.org.openmpio:sim-initiator";
  std::uint64_t isid = 0x023D00000001;
  Duration command_timeout = std::chrono::seconds(30);  // Command::timeout_ms == 0
  Duration tmf_timeout = std::chrono::seconds(30);      // TMFs, login, logout
};

class SimFabric {
 public:
  // The fabric delivers to server, which must outlive it.
  SimFabric(array::DeviceServer& server, std::string target_name);
  // The fabric owns server.
  SimFabric(std::unique_ptr<array::DeviceServer> server, std::string target_name);
  SimFabric(const SimFabric&) = delete;
  SimFabric& operator=(const SimFabric&) = delete;
  ~SimFabric();

  // A target port, named by its relative target port id (as the
  // DeviceServer knows it). Adding an existing port replaces its model.
  void AddPort(std::uint16_t relative_target_port, LinkModel model = {});
  void SetLinkModel(std::uint16_t relative_target_port, LinkModel model);

  // An initiator session to a port, bound to executor; not yet connected.
  // Destroy it on executor's thread.
  std::unique_ptr<SimNexus> CreateNexus(Executor& executor, std::uint16_t relative_target_port,
                                        SimNexusOptions options = {});

  // Faults (see the file comment). Unknown ports are ignored.
  void Drop(std::uint16_t relative_target_port);
  void Hang(std::uint16_t relative_target_port);
  void Release(std::uint16_t relative_target_port);
  void Delay(std::uint16_t relative_target_port, Duration extra);
  void RefuseReconnect(std::uint16_t relative_target_port, bool refuse = true);
  void Restore(std::uint16_t relative_target_port);

  [[nodiscard]] PortCounters Counters(std::uint16_t relative_target_port) const;
  [[nodiscard]] const std::string& target_name() const { return target_name_; }
  [[nodiscard]] array::DeviceServer& server() { return server_; }

 private:
  friend class SimNexus;

  struct Port {
    std::uint16_t rtp = 0;
    LinkModel model;
    Duration extra_delay{0};
    bool hung = false;
    bool refuse_logins = false;
    TimePoint to_target_free{};  // bandwidth: when each direction is idle
    TimePoint to_initiator_free{};
    PortCounters counters;
  };
  // A command the target has received and not yet executed.
  struct TargetTask {
    std::uint64_t nexus_id = 0;
    std::uint32_t slot = 0;
    array::ItNexusId session = 0;
    std::uint64_t lun = 0;
    TaskTag tag = 0;
  };
  // A task of nexus_id aborted by another session's LU reset, to be answered
  // TASK ABORTED by nexus_id's own executor.
  struct ThirdPartyAbort {
    std::uint64_t nexus_id = 0;
    std::uint32_t slot = 0;
    TaskTag tag = 0;
  };
  struct NexusRecord {
    std::uint64_t id = 0;
    SimNexus* nexus = nullptr;
    Executor* executor = nullptr;
    std::uint16_t rtp = 0;
    bool loss_pending = false;  // Drop happened; the nexus has not handled it
    bool loss_strands = false;  // ... and the port was hung: strand, not lose
  };
  // kRelease: the port was hung, everything held moves on now; kReleaseStranded:
  // it was not, only what dead connections left stranded does.
  enum class Event : std::uint8_t { kLinkLoss, kRelease, kReleaseStranded, kThirdPartyAborts };

  // Caller holds mutex_.
  Port* FindPort(std::uint16_t rtp);
  NexusRecord* FindRecord(std::uint64_t nexus_id);
  bool SessionOpen(array::ItNexusId session) const;
  // Ends a session at the target: detach, forget, drop its tasks (the owner
  // of each dropped task is told through released, if it is the caller).
  void CloseSession(array::ItNexusId session, std::vector<std::uint32_t>* released,
                    std::uint64_t caller_id);

  // Posts ev to every nexus on rtp (or to one nexus), without mutex_ held.
  void PostEvent(std::uint64_t nexus_id, Executor* executor, Event ev);
  void Deliver(std::uint64_t nexus_id, Event ev);

  std::unique_ptr<array::DeviceServer> owned_server_;
  array::DeviceServer& server_;
  const std::string target_name_;

  mutable std::mutex mutex_;
  std::vector<Port> ports_;
  std::vector<TargetTask> task_set_;
  std::vector<array::ItNexusId> open_sessions_;
  std::vector<NexusRecord> nexuses_;
  std::vector<ThirdPartyAbort> third_party_aborts_;
  std::uint64_t last_nexus_id_ = 0;
};

}  // namespace openmpio::transport::sim
