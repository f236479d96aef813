// How mpioctl shows the engine's replies: the Status line of a set, a read
// that failed, and the text of each read command (--json prints the reply
// itself, indented).
//
// Replies are read through Field(), List(), FieldOrNull() and Str(), never
// through const json::operator[], which is undefined on a missing key: an
// older or broken engine may send any reply. A field a command walks or
// matches on is required (missing: a Failure that names it, exit 2); a
// field it only prints shows as "-" when missing.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace openmpio::mpioctl {

using nlohmann::json;

// The member `key` of the object `j`; throws Failure naming `key` when `j`
// lacks it or is not an object.
const json& Field(const json& j, const char* key);
// Field() that must be an array: the lists a command walks (Disks, Paths...).
const json& List(const json& j, const char* key);
// The member `key`, or null when `j` lacks it or is not an object: for
// fields where null already means "none" (a path in no group, say).
const json& FieldOrNull(const json& j, const char* key);
// The member `key` as text: a string as is, another value as JSON, "-" when
// `j` lacks it.
std::string Str(const json& j, const char* key);

// The reply's Status (Client::Call checked that there is one).
std::uint32_t StatusCode(const json& reply);
// A set: the Status by name and hex (the reply with --json); kExitOk for
// STATUS_SUCCESS, else kExitStatus.
int PrintSetResult(const json& reply, bool as_json);
// A read that failed: the Status on stderr (and the reply with --json);
// kExitStatus.
int ReadFailed(const json& reply, bool as_json);
// A read: ReadFailed() unless STATUS_SUCCESS, else the reply as JSON or as
// `text` prints it, and kExitOk.
int PrintRead(const json& reply, bool as_json, const std::function<void(const json&)>& text);

// The text of each read, given a reply of STATUS_SUCCESS.
void PrintShow(const json& reply);    // show: per disk, its groups and paths as a tree
void PrintPolicy(const json& reply);  // policy get (DSM_QueryLBPolicy_V2)
void PrintWhy(const json& reply);     // why
void PrintEvents(const json& reply);  // events, in UTC
void PrintTimers(const json& reply);  // timers get
// default-policy get: the MSDSM-wide default, or the entry of `hardware_id`
// (VID 8 + PID 16) among the VID/PID defaults.
void PrintMsdsmDefault(const json& reply);
void PrintTargetDefault(const json& reply, const std::string& hardware_id);
// stats, one disk: MSDSM_DEVICE_PERF per path, with its retries and latency
// buckets from the disk's Show reply `shown` when that has them (best
// effort: an older server without them prints none).
void PrintPerf(const std::string& disk, const json& perf, const json& shown);

// The fields of MPIO_TIMERS_COUNTERS, in the order `timers` prints and sets them.
inline constexpr const char* kTimerNames[] = {"PathVerifyEnabled", "PathVerificationPeriod",
                                              "PDORemovePeriod", "RetryCount", "RetryInterval"};

}  // namespace openmpio::mpioctl
