// Internal commands (discovery, RTPG, TEST UNIT READY) and logins: run on the
// nexus's executor, answered on the control executor. The control path may
// allocate; the data path (request.cpp) does not come through here.
#include <utility>

#include "engine/engine_impl.h"
#include "scsi/sense.h"

namespace openmpio::engine {
namespace {

struct ControlCommand {
  Engine::Impl* engine = nullptr;
  std::weak_ptr<bool> alive;
  NexusRuntime* nexus = nullptr;
  transport::Command command;
  std::vector<std::byte> buffer;
  std::vector<std::byte> out;  // data-out (STPG parameter list)
  CommandDone done;
  int attempts_left = 0;
};

// A unit attention or BUSY on an internal command: it reports something else
// (a reset, a state change — the caller refreshes ALUA anyway) or congestion;
// ask again.
bool Transient(const transport::Result& r) {
  if (r.outcome != transport::Outcome::kCompleted) return false;
  if (r.status == scsi::ScsiStatus::kBusy || r.status == scsi::ScsiStatus::kTaskSetFull)
    return true;
  if (r.status != scsi::ScsiStatus::kCheckCondition) return false;
  const auto sense = scsi::ParseSense(r.sense_bytes());
  return sense && sense->key == scsi::SenseKey::kUnitAttention;
}

void Send(ControlCommand* cc);

void OnDone(void* context, transport::TaskTag /*tag*/, const transport::Result& result) {
  auto* cc = static_cast<ControlCommand*>(context);
  if (Transient(result) && cc->attempts_left > 1) {
    --cc->attempts_left;
    Send(cc);
    return;
  }
  std::unique_ptr<ControlCommand> own(cc);
  cc->engine->control.Post([own = std::shared_ptr<ControlCommand>(std::move(own)), result]() {
    if (own->alive.expired()) return;
    const std::size_t n = result.outcome == transport::Outcome::kCompleted
                              ? std::min<std::size_t>(result.data_in_length, own->buffer.size())
                              : 0;
    own->done(result, std::span<const std::byte>(own->buffer.data(), n));
  });
}

void Send(ControlCommand* cc) {
  cc->nexus->stats.commands.fetch_add(1, std::memory_order_relaxed);
  (void)cc->nexus->transport->Submit(cc->command, &OnDone, cc);
}

// The part of IssueCommand and IssueCommandOut that does not depend on the
// data direction (the caller has set cc's buffer, direction and data span):
// fills in the rest and posts the first send to the nexus's executor. cc is
// deleted there unsent if the engine went away first.
void Issue(Engine::Impl& engine, NexusRuntime& n, ControlCommand* cc, std::uint64_t lun,
           const scsi::Cdb& cdb, CommandDone done, int attempts_left) {
  cc->engine = &engine;
  cc->alive = engine.alive;
  cc->nexus = &n;
  cc->command.lun = lun;
  cc->command.cdb = cdb;
  cc->command.timeout_ms =
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     n.command_timeout.value_or(engine.config.command_timeout))
                                     .count());
  cc->done = std::move(done);
  cc->attempts_left = attempts_left;
  std::weak_ptr<bool> token = engine.alive;
  n.executor->Post([cc, token]() {
    if (token.expired()) {
      delete cc;
      return;
    }
    Send(cc);
  });
}

}  // namespace

void Engine::Impl::IssueCommand(NexusRuntime& n, std::uint64_t lun, const scsi::Cdb& cdb,
                                std::size_t allocation, CommandDone done, int attempts_left) {
  auto* cc = new ControlCommand();
  cc->buffer.resize(allocation);
  cc->command.direction =
      allocation > 0 ? transport::Direction::kFromDevice : transport::Direction::kNone;
  cc->command.data_in = std::span<std::byte>(cc->buffer);
  Issue(*this, n, cc, lun, cdb, std::move(done), attempts_left);
}

void Engine::Impl::IssueCommandOut(NexusRuntime& n, std::uint64_t lun, const scsi::Cdb& cdb,
                                   std::vector<std::byte> data_out, CommandDone done,
                                   int attempts_left) {
  auto* cc = new ControlCommand();
  cc->out = std::move(data_out);
  cc->command.direction =
      cc->out.empty() ? transport::Direction::kNone : transport::Direction::kToDevice;
  cc->command.data_out = std::span<const std::byte>(cc->out);
  Issue(*this, n, cc, lun, cdb, std::move(done), attempts_left);
}

void Engine::Impl::ConnectNexus(NexusRuntime& n, std::function<void(const Status&)> done) {
  std::weak_ptr<bool> token = alive;
  NexusRuntime* np = &n;
  n.executor->Post([this, np, token, done = std::move(done)]() mutable {
    if (token.expired()) return;
    np->transport->Connect([this, np, token, done = std::move(done)](const Status& s) mutable {
      // A new session: copies sent on older ones are fenced (fence.cpp).
      if (s.ok()) np->session.fetch_add(1, std::memory_order_relaxed);
      control.Post([this, np, token, done = std::move(done), s]() {
        if (token.expired()) return;
        if (s.ok()) OnSessionEstablished(*np);
        done(s);
      });
    });
  });
}

}  // namespace openmpio::engine
