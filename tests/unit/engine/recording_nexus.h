// A TransportNexus decorator for the engine's unit tests: forwards every
// call to the real (sim) nexus and records each command's CDB as the engine
// sent it, so a test can assert exactly which commands reached the transport
// and in what order (the array model has no command log).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "scsi/cdb.h"
#include "transport/transport.h"

namespace openmpio::engine::testing {

struct SentCommand {
  std::uint16_t port = 0;
  std::uint64_t lun = 0;
  scsi::Cdb cdb;
  [[nodiscard]] std::uint8_t opcode() const { return cdb.opcode(); }
  [[nodiscard]] std::uint8_t byte(std::size_t i) const {
    return std::to_integer<std::uint8_t>(cdb.bytes[i]);
  }
};

class RecordingNexus final : public transport::TransportNexus {
 public:
  RecordingNexus(std::unique_ptr<transport::TransportNexus> inner, std::uint16_t port,
                 std::vector<SentCommand>* log)
      : inner_(std::move(inner)), port_(port), log_(log) {}

  [[nodiscard]] const transport::NexusAddress& address() const override {
    return inner_->address();
  }
  [[nodiscard]] transport::NexusState state() const override { return inner_->state(); }
  void SetStateListener(transport::StateListener l) override {
    inner_->SetStateListener(std::move(l));
  }
  void Connect(transport::StatusCallback done) override { inner_->Connect(std::move(done)); }
  void Logout(transport::StatusCallback done) override { inner_->Logout(std::move(done)); }
  transport::TaskTag Submit(const transport::Command& command, transport::CompletionFn fn,
                            void* context) override {
    log_->push_back(SentCommand{port_, command.lun, command.cdb});
    return inner_->Submit(command, fn, context);
  }
  void AbortTask(transport::TaskTag tag, transport::TmfCallback done) override {
    inner_->AbortTask(tag, std::move(done));
  }
  void LogicalUnitReset(std::uint64_t lun, transport::TmfCallback done) override {
    inner_->LogicalUnitReset(lun, std::move(done));
  }
  void Abandon(transport::TaskTag tag) override { inner_->Abandon(tag); }

 private:
  std::unique_ptr<transport::TransportNexus> inner_;
  std::uint16_t port_;
  std::vector<SentCommand>* log_;
};

}  // namespace openmpio::engine::testing
