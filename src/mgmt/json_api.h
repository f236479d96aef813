// The JSON management API: one request (a JSON object on one line) in, one
// reply (a JSON object) out. It mirrors the MSDSM WMI classes of
// spec/msdsm.md §1 field for field, names exactly as mpiodisk.h /
// msdsmwmi.h / mpiowmi.h spell them (DESIGN.md "Management").
//
// Request: {"method": NAME, ...}. NAME is a method or a data class:
//   DsmSetLoadBalancePolicy, DsmSetLoadBalancePolicyALUA   (DSM_LB_Operations)
//       {"InstanceName": D, "LoadBalancePolicy": {DSM_Load_Balance_Policy(_V2)}}
//   DSM_QueryLBPolicy_V2, DSM_QuerySupportedLBPolicies_V2, DSM_QueryUniqueId,
//   MSDSM_DEVICE_PERF, MSDsmClearCounters (MSDSM_WMI_METHODS)  {"InstanceName": D}
//   MSDSM_DEFAULT_LOAD_BALANCE_POLICY, MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY,
//   MPIO_TIMERS_COUNTERS: a read without "Set"; {"Set": {fields}} writes.
//   openmpio's own: ListDisks, Show ({"InstanceName"} optional), Why
//   ({"InstanceName"}), SimControl ({"Action": "FailPort"|"HangPort"|
//   "RestorePort"|"SetState"|"CorruptRead"|"ClearFaults",
//   "TargetPort_Identifier", "LUN", "TargetPortGroup_Identifier", "State",
//   "FirstLBA", "BlockCount"}), SaveConfig ({"Path"} optional).
//   An optional "class" names the WMI class the method belongs to.
//
// Reply: {"Status": NTSTATUS as a number, "StatusName": "STATUS_...",
// "Message": text (errors, and warnings)} plus the class's fields.
//
// Unknown names ([C]): a "class" that is not one of ours →
// STATUS_WMI_GUID_NOT_FOUND (unknown class); a "method" that is not one of
// ours, or not one of the named class's → STATUS_WMI_ITEMID_NOT_FOUND
// (unknown method id). An InstanceName that is no disk's designator or alias
// → STATUS_NO_SUCH_DEVICE (spec §4 table, [C]). "Set" on a read-only class →
// STATUS_INVALID_DEVICE_REQUEST. Anything else malformed (not JSON, not an
// object, a field missing, of the wrong type or out of range for its
// ULONG/ULONGLONG/USHORT/UCHAR) → STATUS_INVALID_PARAMETER with a Message
// naming the field; nothing reaches the backend then.
//
// ULONGLONG identifiers (DsmPathId, PreferredPath, DsmUniqueId, PathId) may
// exceed 2^53, which many JSON readers cannot hold in a number: requests may
// give any ULONGLONG as a number or as a string ("0x…" hex or decimal);
// replies always write these identifiers as "0x" + 16 hex digits. Counters
// and the other ULONGLONGs (Reserved, Reserved64, BytesRead...) are numbers.
//
// Exceptions of nlohmann-json are caught here and become a Status; none
// leaves this layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "dsm/types.h"
#include "mgmt/backend.h"
#include "openmpio/expected.h"
#include "openmpio/status.h"

namespace openmpio::mgmt {

// One request line may hold at most this many bytes (the newline excluded).
inline constexpr std::size_t kMaxRequestBytes = std::size_t{1} << 20;

// Gets one reply: a JSON object without a trailing newline.
using ReplyCallback = std::function<void(std::string)>;

class JsonApi {
 public:
  explicit JsonApi(Backend& backend) : backend_(backend) {}

  // Handles one request. `done` is called exactly once, on this thread
  // (decode errors, synchronous backends) or on the backend's thread.
  void Handle(std::string_view request, ReplyCallback done);

 private:
  Backend& backend_;
};

// {"Status":…, "StatusName":…, "Message":…} (Message only when non-empty).
[[nodiscard]] std::string EncodeStatusReply(const Status& status);

// "0x" + 16 lowercase hex digits: how replies write ULONGLONG identifiers.
[[nodiscard]] std::string FormatId(std::uint64_t id);
// A ULONGLONG given as text: "0x…" hex or decimal digits, nothing else.
[[nodiscard]] std::optional<std::uint64_t> ParseIdText(std::string_view text);

// Policy names of mpioctl and the replies' "PolicyName": foo, rr, rrws, lqd,
// wp, lb, st (service time, policy 7) and the numbers 0..7; "none"/"clear" = 0.
[[nodiscard]] std::optional<std::uint32_t> ParsePolicyName(std::string_view text);
[[nodiscard]] const char* PolicyShortName(std::uint32_t policy) noexcept;

// DSM_QueryUniqueId's DsmUniqueId ([C]): FNV-1a 64 over the LU designator's
// association, type and value, so it is stable across restarts and paths.
[[nodiscard]] std::uint64_t DsmUniqueId(const scsi::Designator& lu) noexcept;

}  // namespace openmpio::mgmt
