#include "transport/transport.h"

namespace openmpio::transport {

const char* OutcomeName(Outcome o) noexcept {
  switch (o) {
    case Outcome::kCompleted:
      return "completed";
    case Outcome::kConnectionLost:
      return "connection lost";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kNotSent:
      return "not sent";
    case Outcome::kAborted:
      return "aborted";
    case Outcome::kAbandoned:
      return "abandoned";
  }
  return "unknown";
}

const char* TmfResponseName(TmfResponse r) noexcept {
  switch (r) {
    case TmfResponse::kFunctionComplete:
      return "function complete";
    case TmfResponse::kTaskDoesNotExist:
      return "task does not exist";
    case TmfResponse::kLunDoesNotExist:
      return "LUN does not exist";
    case TmfResponse::kRejected:
      return "rejected";
    case TmfResponse::kFailed:
      return "failed";
    case TmfResponse::kNotConnected:
      return "not connected";
    case TmfResponse::kTimeout:
      return "timeout";
  }
  return "unknown";
}

bool IsFence(TmfResponse r) noexcept {
  return r == TmfResponse::kFunctionComplete || r == TmfResponse::kTaskDoesNotExist;
}

const char* NexusStateName(NexusState s) noexcept {
  switch (s) {
    case NexusState::kDisconnected:
      return "disconnected";
    case NexusState::kConnecting:
      return "connecting";
    case NexusState::kConnected:
      return "connected";
    case NexusState::kFailed:
      return "failed";
  }
  return "unknown";
}

}  // namespace openmpio::transport
