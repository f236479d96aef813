// The configuration file of openmpio: one TOML file (DESIGN.md
// "Configuration"). This header is plain C++ — no toml++ type leaks out — so
// the engine, mgmt and the front ends depend on values, not on a parser.
//
// Sections (examples/demo.toml and examples/iscsi-istgt.toml show each):
//   [management]          the management socket
//   [defaults]            MSDSM-wide default policy (+ preferred path), strict_msdsm
//   [timers]              MPIO timers with MSDSM's names and defaults (spec/msdsm.md
//                         §5), seconds; plus command_timeout and marginal-path numbers
//   [[target_defaults]]   per VID/PID default policy (MSDSM_TARGETS_DEFAULT_...)
//   [[claim]]             vendor/product patterns that are claimed
//   [[merge]]             explicit merges of one LU designator across targets that
//                         cannot be shown to be one device (DESIGN.md "Identity")
//   [[disk]]              persisted per-disk settings (alias, policy, preferred
//                         path, per-path weight and requested state)
//   [[target]] | [sim]    the iSCSI targets to log in to, or the embedded array
//
// Parsing is all-or-nothing: a bad file yields a Status
// (STATUS_INVALID_PARAMETER) whose message is "FILE:LINE:COL: dotted.key: what",
// never a half-filled Config. Unknown keys are errors (a typo must not be
// silently ignored).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsm/types.h"
#include "openmpio/expected.h"
#include "openmpio/status.h"
#include "scsi/alua.h"
#include "scsi/inquiry.h"

namespace openmpio::config {

struct ManagementConfig {
  bool enabled = true;
  // Empty: DefaultSocketPath() — /run/openmpio/mgmt.sock as root,
  // $XDG_RUNTIME_DIR/openmpio.sock otherwise. The socket is created mode 0600.
  std::string socket;
  friend bool operator==(const ManagementConfig&, const ManagementConfig&) = default;
};

struct DefaultsConfig {
  // MSDSM_DEFAULT_LOAD_BALANCE_POLICY. kNone: no MSDSM-wide default stored, so
  // precedence falls to RR (non-ALUA) / RRWS (ALUA) (spec/msdsm.md §3).
  dsm::LoadBalancePolicy load_balance_policy = dsm::LoadBalancePolicy::kNone;
  std::optional<dsm::DsmPathId> preferred_path;
  bool strict_msdsm = false;  // dsm::DsmOptions::strict_msdsm: policy 7 refused
  friend bool operator==(const DefaultsConfig&, const DefaultsConfig&) = default;
};

// spec/msdsm.md §5; seconds. The file uses the MSDSM names (PathVerifyEnabled...).
// Every field's range is in dsm/settings.h (one table for the file, the
// management sets and the saver).
inline constexpr std::uint32_t kTargetHedgeFloorMs = 1000;

struct TimersConfig {
  bool path_verify_enabled = false;                // PathVerifyEnabled
  std::uint32_t path_verification_period = 30;     // PathVerificationPeriod, >= 1
  std::uint32_t pdo_remove_period = 20;            // PDORemovePeriod
  std::uint32_t retry_count = 3;                   // RetryCount, max 500
  std::uint32_t retry_interval = 1;                // RetryInterval
  bool use_custom_path_recovery_interval = false;  // UseCustomPathRecoveryInterval
  std::uint32_t path_recovery_interval = 40;       // PathRecoveryInterval, >= 1
  // Ours (DESIGN.md "Timers"): Microsoft's advice for DiskTimeoutValue.
  std::uint32_t command_timeout = 30;  // >= 1
  // Marginal paths: a path that fails marginal_path_failures times within
  // marginal_path_window seconds is kept out of selection for
  // marginal_path_hold seconds. As multipath-tools ships its marginal_path_* /
  // san_path_err_* settings ("no"), detection is off by default
  // (failures = 0); window and hold follow its 60 s double-failed time and a
  // 300 s recheck gap when turned on.
  std::uint32_t marginal_path_window = 60;
  std::uint32_t marginal_path_failures = 0;  // 0 = off
  std::uint32_t marginal_path_hold = 300;
  // The hedge of a hung path (engine.h): a command outstanding past
  // max(hedge_floor_ms, hedge_multiplier x its path's recent peak) is sent
  // again on another path, and the path is probed. 0 ms: off. Unset in a
  // file with [[target]]: kTargetHedgeFloorMs (tgt behind a proxy answers a
  // write in 25 ms now and then: at 20 ms its paths failed every second).
  std::uint32_t hedge_floor_ms = 20;
  std::uint32_t hedge_multiplier = 4;
  friend bool operator==(const TimersConfig&, const TimersConfig&) = default;
};

inline constexpr std::size_t kMaxVendorChars = 8;    // INQUIRY T10 VENDOR IDENTIFICATION
inline constexpr std::size_t kMaxProductChars = 16;  // INQUIRY PRODUCT IDENTIFICATION

// One MSDSM_TARGET_DEFAULT_POLICY_INFO.
struct TargetDefaultConfig {
  std::string vendor;                                                     // <= 8 characters
  std::string product;                                                    // <= 16 characters
  dsm::LoadBalancePolicy policy = dsm::LoadBalancePolicy::kFailOverOnly;  // 1..7
  std::optional<dsm::DsmPathId> preferred_path;
  friend bool operator==(const TargetDefaultConfig&, const TargetDefaultConfig&) = default;
};

// A claim rule: glob patterns ('*' any run, '?' one character) over the
// trimmed INQUIRY vendor and product. With no rule every LU of peripheral
// type 0 is claimed; with rules, only those that match one.
struct ClaimRule {
  std::string vendor = "*";
  std::string product = "*";
  friend bool operator==(const ClaimRule&, const ClaimRule&) = default;
};

// An explicit merge: paths reporting this LU designator through these targets
// are one disk, even though the targets cannot be shown to be one device.
struct MergeRule {
  std::string designator;            // as the engine prints it (e.g. "naa.6001405...")
  std::vector<std::string> targets;  // target names (iqn...), at least 2, distinct
  friend bool operator==(const MergeRule&, const MergeRule&) = default;
};

struct PathSetting {
  std::optional<std::uint32_t> weight;            // PathWeight (WP)
  std::optional<dsm::PathState> requested_state;  // ao / au / sb / ua
  friend bool operator==(const PathSetting&, const PathSetting&) = default;
};

// Where the keys of one [[disk]] were written: "FILE:LINE:COL: disk[I].KEY",
// keyed by "policy", "preferred_path" and "paths.0x..." (empty for a Config
// not read from a file). The engine checks [[disk]] settings only at start,
// once the disk is found; a refusal names the line. Not part of the value:
// two origins always compare equal.
struct KeyOrigins {
  std::map<std::string, std::string> at;
  [[nodiscard]] std::string Of(const std::string& key, const std::string& fallback) const {
    const auto it = at.find(key);
    return it != at.end() ? it->second : fallback;
  }
  friend bool operator==(const KeyOrigins&, const KeyOrigins&) { return true; }
};

// Persisted per-disk settings (spec/msdsm.md §4 "stored and persisted").
struct DiskConfig {
  std::string designator;  // empty: the disk is named by alias only
  std::string alias;       // [A-Za-z0-9._-], <= 64; unique
  dsm::LoadBalancePolicy policy = dsm::LoadBalancePolicy::kNone;  // kNone: not explicit
  std::optional<dsm::DsmPathId> preferred_path;
  std::map<dsm::DsmPathId, PathSetting> paths;  // keyed by DsmPathId ("0x..." in the file)
  KeyOrigins origins;
  friend bool operator==(const DiskConfig&, const DiskConfig&) = default;
};

enum class HeaderDigest : std::uint8_t {
  kNone,          // "none": HeaderDigest=None
  kCrc32c,        // "crc32c": CRC32C only (a target without it refuses the login)
  kPreferCrc32c,  // "prefer-crc32c": CRC32C,None
};
// "none", "crc32c", "prefer-crc32c"; nullopt for anything else.
[[nodiscard]] std::optional<HeaderDigest> HeaderDigestFromName(std::string_view name);
[[nodiscard]] const char* HeaderDigestName(HeaderDigest d) noexcept;

enum class AluaMode : std::uint8_t { kAuto, kForce, kOff };
// "auto", "force", "off"; nullopt for anything else.
[[nodiscard]] std::optional<AluaMode> AluaModeFromName(std::string_view name);
[[nodiscard]] const char* AluaModeName(AluaMode m) noexcept;

struct IscsiTargetConfig {
  std::string name;                  // iqn.... / eui.... / naa....
  std::vector<std::string> portals;  // "host:port" (port default 3260 when omitted)
  std::string initiator_name;        // empty: the engine's default
  std::vector<std::uint64_t> luns;   // empty: every LUN REPORT LUNS lists
  std::uint32_t login_timeout = 15;  // seconds, 1 .. dsm::kMaxSettingSeconds
  // Liveness (RFC 7143 11.18): a NOP-Out every nop_interval seconds that
  // heard nothing from the target (0: never); nop_missed unanswered in a row
  // (1..100) fail the path.
  std::uint32_t nop_interval = 5;
  std::uint32_t nop_missed = 3;
  // CHAP (RFC 7143 12.1.3; MD5, the one algorithm of libiscsi 1.19): we
  // answer the target's challenge as chap_username / chap_secret; with
  // target_chap_username / target_chap_secret too, the target must answer
  // ours (mutual). A file holding a secret must not be world-readable
  // (LoadConfig). Secrets are never put in a message.
  std::string chap_username;
  std::string chap_secret;
  std::string target_chap_username;
  std::string target_chap_secret;
  // Header digest (RFC 7143 13.1) offered at login; libiscsi 1.19 has no
  // data digest.
  HeaderDigest header_digest = HeaderDigest::kNone;
  // ALUA: "auto" as INQUIRY's TPGS says (MSDSM's way); "force" reads and
  // sets target port group states where TPGS says none but VPD 0x83 names
  // the port's group (istgt answers RTPG and STPG with TPGS = 0); "off"
  // ignores ALUA. Applies to every LU of the target.
  AluaMode alua = AluaMode::kAuto;
  // true: `portals` are discovery portals; the paths are every portal that
  // SendTargets (RFC 7143 12.3) reports for `name`, with their portal group
  // tags, asked at start (the first portal that answers within
  // login_timeout).
  bool sendtargets = false;
  // Seconds; overrides [timers] command_timeout for this target's paths
  // (0: that one).
  std::uint32_t command_timeout = 0;
  KeyOrigins origins;  // "": the [[target]] table
  friend bool operator==(const IscsiTargetConfig&, const IscsiTargetConfig&) = default;
};

// ---- the embedded array (mirrors array::ArrayConfig and sim::LinkModel) ----

struct SimPortConfig {
  std::uint16_t relative_target_port = 1;        // never 0
  std::uint16_t target_port_group = 1;           // never 0
  std::uint64_t latency_us = 0;                  // one way
  std::uint64_t bandwidth_bytes_per_second = 0;  // 0 = unlimited
  std::uint64_t service_time_us = 0;
  friend bool operator==(const SimPortConfig&, const SimPortConfig&) = default;
};

struct SimGroupState {
  std::uint16_t target_port_group = 1;
  scsi::AsymmetricAccessState state = scsi::AsymmetricAccessState::kActiveOptimized;
  friend bool operator==(const SimGroupState&, const SimGroupState&) = default;
};

// Logical block provisioning (SBC-3 4.7.3), `provisioning = "thin" | "thick"`.
// Thin: READ CAPACITY(16) LBPME and LBPRZ, VPD 0xB2 LBPU and LBPWS, UNMAP
// and WRITE SAME with UNMAP free blocks. Thick (fully provisioned): none of
// those bits, UNMAP and WRITE SAME with UNMAP refused.
enum class SimProvisioning : std::uint8_t { kThin, kThick };

struct SimLuConfig {
  std::uint64_t lun = 0;
  std::uint64_t size_bytes = 0;  // a multiple of block_size, > 0
  std::uint32_t block_size = 512;
  SimProvisioning provisioning = SimProvisioning::kThin;
  // The owning group (A/O); every other group A/N — unless `states` lists
  // the groups explicitly (then it wins for the groups it names).
  std::optional<std::uint16_t> owner_group;
  std::vector<SimGroupState> states;
  std::optional<std::uint16_t> preferred_group;
  friend bool operator==(const SimLuConfig&, const SimLuConfig&) = default;
};

struct SimConfig {
  std::string target_name = "iqn.2024-01.org.openmpio:array";
  std::string vendor = "OPENMPIO";
  std::string product = "SIM ARRAY";
  scsi::Tpgs tpgs = scsi::Tpgs::kBoth;
  std::uint32_t implicit_transition_time = 2;  // seconds, 0..255
  std::uint64_t seed = 1;
  std::vector<SimPortConfig> ports;
  std::vector<SimLuConfig> lus;
  friend bool operator==(const SimConfig&, const SimConfig&) = default;
};

struct Config {
  ManagementConfig management;
  DefaultsConfig defaults;
  TimersConfig timers;
  std::vector<TargetDefaultConfig> target_defaults;
  std::vector<ClaimRule> claim;
  std::vector<MergeRule> merge;
  std::vector<DiskConfig> disks;
  // At least one of the two: [[target]]s (real storage), the embedded array,
  // or both side by side.
  std::vector<IscsiTargetConfig> targets;
  std::optional<SimConfig> sim;
  friend bool operator==(const Config&, const Config&) = default;
};

// ---- parsing and writing ----

// `name` is what messages call the file ("demo.toml").
[[nodiscard]] Expected<Config> ParseConfig(std::string_view text, std::string_view name);
// Reads and parses `path`; an unreadable file is STATUS_INVALID_PARAMETER too,
// with the path and errno text.
[[nodiscard]] Expected<Config> LoadConfig(const std::string& path);

// A TOML text that ParseConfig reads back to an equal Config. Comments of the
// file the Config came from are not preserved.
[[nodiscard]] std::string FormatConfig(const Config& config);
// FormatConfig, written atomically: a temporary file in the same folder,
// fsync, rename over `path`, fsync of the folder; mode 0600. On failure
// `path` is untouched and the temporary file removed (STATUS_IO_DEVICE_ERROR
// with the path and errno text). A text ParseConfig would refuse is not
// written: STATUS_INVALID_PARAMETER with the parser's words.
[[nodiscard]] Status SaveConfig(const std::string& path, const Config& config);

// The demo: the sim array of array::DemoArrayConfig (2 groups x 2 ports, LU 0
// owned by group 1, LU 1 by group 2, TPGS implicit + explicit, 1 GiB each),
// MSDSM's default timers.
[[nodiscard]] Config DemoConfig();

// ---- helpers for users of a Config ----

// "foo", "rr", "rrws", "lqd", "wp", "lb", "st"; nullptr for kNone / unknown.
[[nodiscard]] const char* PolicyName(dsm::LoadBalancePolicy policy) noexcept;
// A name above or "1".."7"; nullopt otherwise.
[[nodiscard]] std::optional<dsm::LoadBalancePolicy> PolicyFromName(std::string_view name);

// A DsmPathId is written as dsm::PathIdText writes it ("0x" + 16 hex digits).
// "0x" + 1..16 hex digits, non-zero; nullopt otherwise.
[[nodiscard]] std::optional<dsm::DsmPathId> ParsePathId(std::string_view text);

// The management socket: config.management.socket, or the default for this
// process (uid 0: /run/openmpio/mgmt.sock; else $XDG_RUNTIME_DIR/openmpio.sock,
// and /tmp/openmpio-<uid>.sock when XDG_RUNTIME_DIR is unset).
[[nodiscard]] std::string DefaultSocketPath(unsigned uid, const char* xdg_runtime_dir);
[[nodiscard]] std::string SocketPath(const ManagementConfig& management);

// Claim rules (see ClaimRule): `vendor` / `product` as INQUIRY reports them,
// trailing spaces ignored.
[[nodiscard]] bool GlobMatch(std::string_view pattern, std::string_view text) noexcept;
[[nodiscard]] bool IsClaimed(const Config& config, std::string_view vendor,
                             std::string_view product);

// MSDSM HardwareId: vendor padded to 8, product padded to 16.
[[nodiscard]] std::string HardwareId(const TargetDefaultConfig& target_default);

[[nodiscard]] dsm::DsmOptions ToDsmOptions(const Config& config);

}  // namespace openmpio::config
