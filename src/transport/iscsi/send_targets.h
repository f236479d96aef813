// SendTargets discovery (RFC 7143 12.3, appendix C): one discovery session
// to a portal asks the target for every target it offers and every portal
// of each, with the iSCSI portal group tag — the part of a path's identity
// that libiscsi 1.19 does not report after a normal login (DsmPathId,
// dsm/topology.h).
//
// Synchronous, for a program's start-up before its reactors run: a private
// libiscsi context driven by poll() on the calling thread, with one deadline
// over connect, login, the SendTargets exchange and logout (istgt's answer
// makes libiscsi's own tools spin: LAB.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/executor.h"
#include "openmpio/expected.h"

namespace openmpio::transport::iscsi {

struct TargetPortal {
  std::string portal;                  // "host:port", as IscsiNexus connects to it
  std::uint16_t portal_group_tag = 0;  // the iSCSI portal group tag
  friend bool operator==(const TargetPortal&, const TargetPortal&) = default;
};

struct DiscoveredTarget {
  std::string name;
  std::vector<TargetPortal> portals;
  friend bool operator==(const DiscoveredTarget&, const DiscoveredTarget&) = default;
};

struct SendTargetsRequest {
  std::string portal;  // the discovery portal, "host:port"
  std::string initiator_name;
  Duration deadline = std::chrono::seconds(10);
  // CHAP for the discovery session (empty: none).
  std::string chap_username;
  std::string chap_secret;
};

// Every target and portal the discovery portal reports. Errors:
// STATUS_IO_TIMEOUT past the deadline, STATUS_DEVICE_NOT_READY when the
// portal cannot be reached or refuses the login, STATUS_INVALID_PARAMETER
// for an answer we cannot read (named in the message).
[[nodiscard]] Expected<std::vector<DiscoveredTarget>> SendTargets(
    const SendTargetsRequest& request);

// One TargetAddress value (RFC 7143 13.8: "domainname[:port][,tpgt]";
// "[v6]:port,tpgt"), port 3260 when omitted; nullopt when it cannot be read.
[[nodiscard]] std::optional<TargetPortal> ParseTargetAddress(std::string_view text);

}  // namespace openmpio::transport::iscsi
