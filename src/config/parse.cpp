// ParseConfig / LoadConfig: toml++ reads the text; this file walks the
// resulting tree section by section, checking every key against the list of
// known ones, every value's type and range, and the cross-checks (duplicate
// aliases and portals, [sim] xor [[target]]). The first mistake stops the
// walk and becomes the only result: a Status whose message is
// "FILE:LINE:COL: dotted.key: what". toml++ throws on syntax errors; that is
// caught here, so no exception leaves this file.
#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <span>
#include <sstream>

#include "config/config.h"
#include "dsm/settings.h"

namespace openmpio::config {

namespace {

using dsm::LoadBalancePolicy;

// Levenshtein distance, for "did you mean" on unknown keys.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

const char* TypeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// Appended piece by piece: `"literal" + std::string&&` inlines
// basic_string::insert(0, ...), where gcc 12 -O2 reports a false -Wrestrict
// (GCC bug 105329).
std::string Quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

// The largest value of U that a TOML integer (signed 64-bit) can hold.
template <typename U>
constexpr std::int64_t MaxOf() {
  constexpr auto kI64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return std::numeric_limits<U>::max() > kI64Max
             ? std::numeric_limits<std::int64_t>::max()
             : static_cast<std::int64_t>(std::numeric_limits<U>::max());
}

std::string Dotted(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return std::string(prefix) + "." + std::string(key);
}

std::string Indexed(std::string_view prefix, std::size_t i) {
  return std::string(prefix) + "[" + std::to_string(i) + "]";
}

// The walk. Every Get* returns false after recording the first error; the
// caller returns false at once, so nothing after a mistake is read.
class Walker {
 public:
  explicit Walker(std::string_view file) : file_(file) {}

  const Status& error() const { return error_; }

  bool Fail(const toml::source_region& where, std::string_view key, std::string_view what) {
    std::string m = file_ + ":" + std::to_string(where.begin.line) + ":" +
                    std::to_string(where.begin.column) + ": ";
    if (!key.empty()) m += std::string(key) + ": ";
    m += what;
    error_ = InvalidParameter(std::move(m));
    return false;
  }
  bool Fail(const toml::node& where, std::string_view key, std::string_view what) {
    return Fail(where.source(), key, what);
  }
  // "FILE:LINE:COL: key", the start of Fail's message.
  [[nodiscard]] std::string Where(const toml::source_region& where, std::string_view key) const {
    return file_ + ":" + std::to_string(where.begin.line) + ":" +
           std::to_string(where.begin.column) + ": " + std::string(key);
  }

  // Every key of `table` must be one of `known`.
  bool CheckKeys(const toml::table& table, std::string_view prefix,
                 std::initializer_list<std::string_view> known) {
    return CheckKeys(table, prefix, std::span<const std::string_view>(known.begin(), known.size()));
  }

  bool CheckKeys(const toml::table& table, std::string_view prefix,
                 std::span<const std::string_view> known) {
    for (auto&& [k, v] : table) {
      bool found = false;
      for (const auto kn : known) found = found || kn == k.str();
      if (found) continue;
      std::string_view best;
      std::size_t best_d = std::numeric_limits<std::size_t>::max();
      for (const auto kn : known) {
        const std::size_t d = EqualsIgnoreCase(kn, k.str()) ? 0 : EditDistance(kn, k.str());
        if (d < best_d) {
          best_d = d;
          best = kn;
        }
      }
      std::string what = "unknown key";
      if (best_d <= 2 && best_d < k.str().size()) {
        what += "; did you mean ";
        what += best;
        what += '?';
      } else {
        what += " (known keys:";
        for (const auto kn : known) {
          what += ' ';
          what += kn;
        }
        what += ')';
      }
      return Fail(k.source(), Dotted(prefix, k.str()), what);
    }
    return true;
  }

  bool WrongType(const toml::node& n, std::string_view key, std::string_view expected) {
    return Fail(n, key, "expected " + std::string(expected) + ", got " + TypeName(n.type()));
  }

  bool Int(const toml::node& n, std::string_view key, std::int64_t min, std::int64_t max,
           std::int64_t* out) {
    const auto* v = n.as_integer();
    if (v == nullptr) return WrongType(n, key, "an integer");
    const std::int64_t x = v->get();
    if (x < min) {
      return Fail(n, key, std::to_string(x) + " is below the minimum " + std::to_string(min));
    }
    if (x > max) {
      return Fail(n, key, std::to_string(x) + " is above the maximum " + std::to_string(max));
    }
    *out = x;
    return true;
  }

  template <typename U>
  bool Unsigned(const toml::table& t, std::string_view prefix, std::string_view key, U* out,
                std::int64_t min = 0, std::int64_t max = MaxOf<U>()) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return true;
    std::int64_t x = 0;
    if (!Int(*n, Dotted(prefix, key), min, max, &x)) return false;
    *out = static_cast<U>(x);
    return true;
  }

  // A setting of dsm/settings.h: its name, its range and its words.
  template <typename U>
  bool Setting(const toml::table& t, std::string_view prefix, dsm::Setting s, U* out) {
    const dsm::SettingRange& r = dsm::RangeOf(s);
    const toml::node* n = t.get(r.name);
    if (n == nullptr) return true;
    const std::string key = Dotted(prefix, r.name);
    if (r.max == 1) {
      bool b = false;
      if (!Bool(t, prefix, r.name, &b, true)) return false;
      *out = static_cast<U>(b);
      return true;
    }
    const auto* v = n->as_integer();
    if (v == nullptr) return WrongType(*n, key, "an integer");
    if (dsm::CheckSetting(s, v->get()).ok()) {
      *out = static_cast<U>(v->get());
      return true;
    }
    return Fail(*n, key, dsm::OutOfRange(r, v->get()));
  }

  bool Bool(const toml::table& t, std::string_view prefix, std::string_view key, bool* out,
            bool allow_01 = false) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return true;
    if (const auto* b = n->as_boolean()) {
      *out = b->get();
      return true;
    }
    if (allow_01 && n->is_integer()) {
      std::int64_t x = 0;
      if (!Int(*n, Dotted(prefix, key), 0, 1, &x)) return false;
      *out = x != 0;
      return true;
    }
    return WrongType(*n, Dotted(prefix, key), allow_01 ? "a boolean (or 0/1)" : "a boolean");
  }

  // Printable ASCII only where INQUIRY fields or names go (SPC-4 4.4.1).
  bool String(const toml::table& t, std::string_view prefix, std::string_view key, std::string* out,
              std::size_t max_chars = 0, bool required = false, bool ascii = false) {
    const toml::node* n = t.get(key);
    const std::string dotted = Dotted(prefix, key);
    if (n == nullptr) {
      if (required) return Fail(t, dotted, "missing (required)");
      return true;
    }
    const auto* s = n->as_string();
    if (s == nullptr) return WrongType(*n, dotted, "a string");
    const std::string& v = s->get();
    if (required && v.empty()) return Fail(*n, dotted, "must not be empty");
    if (max_chars != 0 && v.size() > max_chars) {
      return Fail(*n, dotted,
                  Quoted(v) + " is longer than " + std::to_string(max_chars) + " characters");
    }
    if (ascii) {
      for (const char c : v) {
        if (c < 0x20 || c > 0x7e) return Fail(*n, dotted, Quoted(v) + " is not printable ASCII");
      }
    }
    *out = v;
    return true;
  }

  bool Policy(const toml::node& n, std::string_view key, bool strict, LoadBalancePolicy* out) {
    std::optional<LoadBalancePolicy> p;
    if (const auto* s = n.as_string()) {
      p = PolicyFromName(s->get());
      if (!p) {
        return Fail(n, key,
                    Quoted(s->get()) + " is not a policy (foo, rr, rrws, lqd, wp, lb, st or 1-7)");
      }
    } else if (n.is_integer()) {
      std::int64_t x = 0;
      if (!Int(n, key, 1, 7, &x)) return false;
      p = static_cast<LoadBalancePolicy>(static_cast<std::uint32_t>(x));
    } else {
      return WrongType(n, key, "a policy name or number");
    }
    if (!dsm::IsSelectablePolicy(*p, strict)) {
      return Fail(n, key, "policy 7 (st) is not accepted with defaults.strict_msdsm = true");
    }
    *out = *p;
    return true;
  }

  bool PathId(const toml::node& n, std::string_view key, dsm::DsmPathId* out) {
    const auto* s = n.as_string();
    if (s == nullptr) {
      return WrongType(n, key, "a DsmPathId as a hex string \"0x...\"");
    }
    const auto id = ParsePathId(s->get());
    if (!id) {
      return Fail(n, key,
                  Quoted(s->get()) + " is not a DsmPathId (\"0x\" and 1-16 hex digits, non-zero)");
    }
    *out = *id;
    return true;
  }

  bool OptPathId(const toml::table& t, std::string_view prefix, std::string_view key,
                 std::optional<dsm::DsmPathId>* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return true;
    dsm::DsmPathId id = 0;
    if (!PathId(*n, Dotted(prefix, key), &id)) return false;
    *out = id;
    return true;
  }

  // A section that must be a table: [name] (or an inline table).
  bool Table(const toml::node& n, std::string_view key, const toml::table** out) {
    *out = n.as_table();
    if (*out == nullptr) return WrongType(n, key, "a table");
    return true;
  }

  // A section that must be an array of tables: [[name]].
  bool Tables(const toml::node& n, std::string_view key, std::vector<const toml::table*>* out) {
    const auto* a = n.as_array();
    if (a == nullptr) return WrongType(n, key, "an array of tables ([[" + std::string(key) + "]])");
    for (std::size_t i = 0; i < a->size(); ++i) {
      const auto* t = a->get(i)->as_table();
      if (t == nullptr) return WrongType(*a->get(i), Indexed(key, i), "a table");
      out->push_back(t);
    }
    return true;
  }

 private:
  std::string file_;
  Status error_;
};

// ---- sections ----

// A simulated link's delays: a minute at most. Beyond that no test means it,
// and 2^63-1 µs wrapped to nothing in the engine's nanosecond clock.
constexpr std::int64_t kMaxSimDelayUs = 60'000'000;

bool ParseManagement(Walker& w, const toml::table& t, ManagementConfig* m) {
  if (!w.CheckKeys(t, "management", {"enabled", "socket"})) return false;
  if (!w.Bool(t, "management", "enabled", &m->enabled)) return false;
  if (!w.String(t, "management", "socket", &m->socket)) return false;
  if (!m->socket.empty() && m->socket.size() >= 108) {
    // sockaddr_un::sun_path is 108 bytes with its NUL.
    return w.Fail(*t.get("socket"), "management.socket",
                  "longer than 107 bytes, too long for a unix socket path");
  }
  return true;
}

bool ParseDefaults(Walker& w, const toml::table& t, DefaultsConfig* d) {
  if (!w.CheckKeys(t, "defaults", {"load_balance_policy", "preferred_path", "strict_msdsm"})) {
    return false;
  }
  if (!w.Bool(t, "defaults", "strict_msdsm", &d->strict_msdsm)) return false;
  if (const auto* n = t.get("load_balance_policy")) {
    if (!w.Policy(*n, "defaults.load_balance_policy", d->strict_msdsm, &d->load_balance_policy)) {
      return false;
    }
  }
  return w.OptPathId(t, "defaults", "preferred_path", &d->preferred_path);
}

bool ParseTimers(Walker& w, const toml::table& t, TimersConfig* tm) {
  constexpr std::string_view p = "timers";
  std::array<std::string_view, dsm::kSettingCount> names;
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = dsm::kSettingRanges[i].name;
  if (!w.CheckKeys(t, p, names)) return false;
  using dsm::Setting;
  return w.Setting(t, p, Setting::kPathVerifyEnabled, &tm->path_verify_enabled) &&
         w.Setting(t, p, Setting::kPathVerificationPeriod, &tm->path_verification_period) &&
         w.Setting(t, p, Setting::kPdoRemovePeriod, &tm->pdo_remove_period) &&
         w.Setting(t, p, Setting::kRetryCount, &tm->retry_count) &&
         w.Setting(t, p, Setting::kRetryInterval, &tm->retry_interval) &&
         w.Setting(t, p, Setting::kUseCustomPathRecoveryInterval,
                   &tm->use_custom_path_recovery_interval) &&
         w.Setting(t, p, Setting::kPathRecoveryInterval, &tm->path_recovery_interval) &&
         w.Setting(t, p, Setting::kCommandTimeout, &tm->command_timeout) &&
         w.Setting(t, p, Setting::kMarginalPathWindow, &tm->marginal_path_window) &&
         w.Setting(t, p, Setting::kMarginalPathFailures, &tm->marginal_path_failures) &&
         w.Setting(t, p, Setting::kMarginalPathHold, &tm->marginal_path_hold) &&
         w.Setting(t, p, Setting::kHedgeFloorMs, &tm->hedge_floor_ms) &&
         w.Setting(t, p, Setting::kHedgeMultiplier, &tm->hedge_multiplier);
}

bool ParseTargetDefaults(Walker& w, const toml::node& n, bool strict,
                         std::vector<TargetDefaultConfig>* out) {
  std::vector<const toml::table*> tables;
  if (!w.Tables(n, "target_defaults", &tables)) return false;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    const std::string p = Indexed("target_defaults", i);
    TargetDefaultConfig d;
    if (!w.CheckKeys(t, p, {"vendor", "product", "policy", "preferred_path"}) ||
        !w.String(t, p, "vendor", &d.vendor, kMaxVendorChars, true, true) ||
        !w.String(t, p, "product", &d.product, kMaxProductChars, true, true)) {
      return false;
    }
    const toml::node* pn = t.get("policy");
    if (pn == nullptr) return w.Fail(t, Dotted(p, "policy"), "missing (required)");
    if (!w.Policy(*pn, Dotted(p, "policy"), strict, &d.policy)) return false;
    if (!w.OptPathId(t, p, "preferred_path", &d.preferred_path)) return false;
    if (!seen.insert(HardwareId(d)).second) {
      return w.Fail(
          t, p, "duplicate entry for vendor " + Quoted(d.vendor) + " product " + Quoted(d.product));
    }
    out->push_back(std::move(d));
  }
  return true;
}

bool ParseClaim(Walker& w, const toml::node& n, std::vector<ClaimRule>* out) {
  std::vector<const toml::table*> tables;
  if (!w.Tables(n, "claim", &tables)) return false;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    const std::string p = Indexed("claim", i);
    ClaimRule r;
    if (!w.CheckKeys(t, p, {"vendor", "product"}) ||
        !w.String(t, p, "vendor", &r.vendor, 0, false, true) ||
        !w.String(t, p, "product", &r.product, 0, false, true)) {
      return false;
    }
    if (r.vendor.empty() || r.product.empty()) {
      return w.Fail(t, p, "an empty pattern matches nothing; use \"*\"");
    }
    out->push_back(std::move(r));
  }
  return true;
}

bool StringArray(Walker& w, const toml::table& t, std::string_view prefix, std::string_view key,
                 std::vector<std::string>* out, std::vector<const toml::node*>* nodes) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  const std::string dotted = Dotted(prefix, key);
  const auto* a = n->as_array();
  if (a == nullptr) return w.WrongType(*n, dotted, "an array of strings");
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = *a->get(i);
    const auto* s = e.as_string();
    if (s == nullptr) return w.WrongType(e, Indexed(dotted, i), "a string");
    if (s->get().empty()) return w.Fail(e, Indexed(dotted, i), "must not be empty");
    out->push_back(s->get());
    nodes->push_back(&e);
  }
  return true;
}

bool ParseMerge(Walker& w, const toml::node& n, std::vector<MergeRule>* out) {
  std::vector<const toml::table*> tables;
  if (!w.Tables(n, "merge", &tables)) return false;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    const std::string p = Indexed("merge", i);
    MergeRule r;
    std::vector<const toml::node*> nodes;
    if (!w.CheckKeys(t, p, {"designator", "targets"}) ||
        !w.String(t, p, "designator", &r.designator, 0, true) ||
        !StringArray(w, t, p, "targets", &r.targets, &nodes)) {
      return false;
    }
    if (r.targets.size() < 2) {
      return w.Fail(t.get("targets") != nullptr ? t.get("targets")->source() : t.source(),
                    Dotted(p, "targets"), "a merge names at least 2 targets");
    }
    std::set<std::string> seen;
    for (std::size_t j = 0; j < r.targets.size(); ++j) {
      if (!seen.insert(r.targets[j]).second) {
        return w.Fail(*nodes[j], Indexed(Dotted(p, "targets"), j),
                      "duplicate target " + Quoted(r.targets[j]));
      }
    }
    out->push_back(std::move(r));
  }
  return true;
}

bool ValidAlias(std::string_view a) {
  if (a.empty() || a.size() > 64) return false;
  for (const char c : a) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<dsm::PathState> PathStateFromName(std::string_view s) {
  if (s == "ao") return dsm::PathState::kActiveOptimized;
  if (s == "au") return dsm::PathState::kActiveUnoptimized;
  if (s == "sb") return dsm::PathState::kStandby;
  if (s == "ua") return dsm::PathState::kUnavailable;
  return std::nullopt;
}

bool ParseDisks(Walker& w, const toml::node& n, bool strict, std::vector<DiskConfig>* out) {
  std::vector<const toml::table*> tables;
  if (!w.Tables(n, "disk", &tables)) return false;
  std::set<std::string> aliases;
  std::set<std::string> designators;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    const std::string p = Indexed("disk", i);
    DiskConfig d;
    if (!w.CheckKeys(t, p, {"designator", "alias", "policy", "preferred_path", "paths"}) ||
        !w.String(t, p, "designator", &d.designator, 0, false, true) ||
        !w.String(t, p, "alias", &d.alias)) {
      return false;
    }
    if (d.designator.empty() && d.alias.empty()) {
      return w.Fail(t, p, "a disk needs a designator or an alias");
    }
    if (const auto* an = t.get("alias")) {
      if (!ValidAlias(d.alias)) {
        return w.Fail(*an, Dotted(p, "alias"),
                      Quoted(d.alias) + " is not an alias (1-64 of A-Z a-z 0-9 . _ -)");
      }
      if (!aliases.insert(d.alias).second) {
        return w.Fail(*an, Dotted(p, "alias"), "duplicate alias " + Quoted(d.alias));
      }
    }
    if (const auto* dn = t.get("designator")) {
      if (!d.designator.empty() && !designators.insert(d.designator).second) {
        return w.Fail(*dn, Dotted(p, "designator"), "duplicate designator " + Quoted(d.designator));
      }
    }
    if (const auto* pn = t.get("policy")) {
      if (!w.Policy(*pn, Dotted(p, "policy"), strict, &d.policy)) return false;
      d.origins.at["policy"] = w.Where(pn->source(), Dotted(p, "policy"));
    }
    if (!w.OptPathId(t, p, "preferred_path", &d.preferred_path)) return false;
    if (const auto* pn = t.get("preferred_path")) {
      d.origins.at["preferred_path"] = w.Where(pn->source(), Dotted(p, "preferred_path"));
    }
    d.origins.at[""] = w.Where(t.source(), p);
    if (const auto* paths_node = t.get("paths")) {
      const toml::table* paths = nullptr;
      const std::string pp = Dotted(p, "paths");
      if (!w.Table(*paths_node, pp, &paths)) return false;
      std::map<dsm::DsmPathId, const toml::key*> first_key;
      for (auto&& [k, v] : *paths) {
        const std::string kp = Dotted(pp, k.str());
        const auto id = ParsePathId(k.str());
        if (!id) {
          return w.Fail(
              k.source(), kp,
              Quoted(k.str()) + " is not a DsmPathId (\"0x\" and 1-16 hex digits, non-zero)");
        }
        if (const auto prev = first_key.find(*id); prev != first_key.end()) {
          // toml++ visits keys in text order ("0x01" before "0x1"); name the
          // one that comes later in the file.
          const toml::key* later = prev->second;
          const auto& a = later->source().begin;
          const auto& b = k.source().begin;
          if (b.line > a.line || (b.line == a.line && b.column > a.column)) later = &k;
          return w.Fail(later->source(), Dotted(pp, later->str()),
                        "duplicate DsmPathId " + FormatPathId(*id));
        }
        first_key.emplace(*id, &k);
        const toml::table* pt = nullptr;
        if (!w.Table(v, kp, &pt)) return false;
        PathSetting s;
        if (!w.CheckKeys(*pt, kp, {"weight", "state"})) return false;
        if (const auto* wn = pt->get("weight")) {
          std::int64_t x = 0;
          if (!w.Int(*wn, Dotted(kp, "weight"), 0, std::numeric_limits<std::uint32_t>::max(), &x)) {
            return false;
          }
          s.weight = static_cast<std::uint32_t>(x);
        }
        if (const auto* sn = pt->get("state")) {
          const auto* ss = sn->as_string();
          if (ss == nullptr) return w.WrongType(*sn, Dotted(kp, "state"), "a string");
          s.requested_state = PathStateFromName(ss->get());
          if (!s.requested_state) {
            return w.Fail(*sn, Dotted(kp, "state"),
                          Quoted(ss->get()) + " is not a path state (ao, au, sb, ua)");
          }
        }
        d.paths.emplace(*id, s);
        d.origins.at["paths." + FormatPathId(*id)] = w.Where(k.source(), kp);
      }
    }
    out->push_back(std::move(d));
  }
  return true;
}

// "host:port", "host" (port 3260), "[v6]:port", "[v6]". Returns the
// normalized "host:port" text for duplicate checks, or nullopt.
std::optional<std::string> NormalizePortal(std::string_view s) {
  std::string_view host;
  std::string_view port;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    host = s.substr(0, close + 1);
    const std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    const auto colon = s.find(':');
    if (colon != s.rfind(':')) return std::nullopt;  // IPv6 needs brackets
    host = s.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = s.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
  }
  if (host.empty()) return std::nullopt;
  for (const char c : host) {
    if (c <= 0x20 || c > 0x7e) return std::nullopt;
  }
  unsigned value = 3260;  // RFC 7143 13.7: the well-known iSCSI port
  if (!port.empty()) {
    if (port.size() > 5) return std::nullopt;
    value = 0;
    for (const char c : port) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
  }
  return std::string(host) + ":" + std::to_string(value);
}

bool ParseTargets(Walker& w, const toml::node& n, std::vector<IscsiTargetConfig>* out) {
  std::vector<const toml::table*> tables;
  if (!w.Tables(n, "target", &tables)) return false;
  std::set<std::string> names;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    const std::string p = Indexed("target", i);
    IscsiTargetConfig c;
    std::vector<const toml::node*> nodes;
    if (!w.CheckKeys(t, p, {"name", "portals", "initiator_name", "luns", "login_timeout"}) ||
        !w.String(t, p, "name", &c.name, 223, true, true) ||  // RFC 7143 4.2.7.1: <= 223 bytes
        !w.String(t, p, "initiator_name", &c.initiator_name, 223, false, true) ||
        !StringArray(w, t, p, "portals", &c.portals, &nodes) ||
        !w.Unsigned(t, p, "login_timeout", &c.login_timeout, 1, dsm::kMaxSettingSeconds)) {
      return false;
    }
    c.origins.at[""] = w.Where(t.source(), p);
    if (!names.insert(c.name).second) {
      return w.Fail(*t.get("name"), Dotted(p, "name"), "duplicate target " + Quoted(c.name));
    }
    if (c.portals.empty()) {
      return w.Fail(t.get("portals") != nullptr ? t.get("portals")->source() : t.source(),
                    Dotted(p, "portals"), "a target needs at least one portal");
    }
    std::set<std::string> seen;
    for (std::size_t j = 0; j < c.portals.size(); ++j) {
      const std::string key = Indexed(Dotted(p, "portals"), j);
      const auto norm = NormalizePortal(c.portals[j]);
      if (!norm) {
        return w.Fail(*nodes[j], key,
                      Quoted(c.portals[j]) + " is not a portal (host:port, [ipv6]:port)");
      }
      if (!seen.insert(*norm).second) {
        return w.Fail(*nodes[j], key, "duplicate portal " + Quoted(*norm));
      }
    }
    if (const auto* ln = t.get("luns")) {
      const auto* a = ln->as_array();
      if (a == nullptr) return w.WrongType(*ln, Dotted(p, "luns"), "an array of LUNs");
      std::set<std::uint64_t> luns;
      for (std::size_t j = 0; j < a->size(); ++j) {
        std::int64_t x = 0;
        const std::string key = Indexed(Dotted(p, "luns"), j);
        if (!w.Int(*a->get(j), key, 0, 16383, &x)) return false;  // SAM-5 flat/peripheral LUNs
        if (!luns.insert(static_cast<std::uint64_t>(x)).second) {
          return w.Fail(*a->get(j), key, "duplicate LUN " + std::to_string(x));
        }
        c.luns.push_back(static_cast<std::uint64_t>(x));
      }
    }
    out->push_back(std::move(c));
  }
  return true;
}

// "1073741824", "1GiB", "512MiB", "4KiB", "2TiB" — binary units only.
std::optional<std::uint64_t> ParseSize(std::string_view s) {
  std::uint64_t mult = 1;
  const std::pair<std::string_view, std::uint64_t> suffixes[] = {
      {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}, {"TiB", 1ULL << 40}};
  for (const auto& [suffix, m] : suffixes) {
    if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
      mult = m;
      s.remove_suffix(suffix.size());
      break;
    }
  }
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (v > std::numeric_limits<std::uint64_t>::max() / mult) return std::nullopt;
  return v * mult;
}

std::optional<scsi::AsymmetricAccessState> SimStateFromName(std::string_view s) {
  using S = scsi::AsymmetricAccessState;
  if (s == "ao") return S::kActiveOptimized;
  if (s == "an") return S::kActiveNonOptimized;
  if (s == "standby") return S::kStandby;
  if (s == "unavailable") return S::kUnavailable;
  if (s == "offline") return S::kOffline;
  return std::nullopt;
}

std::optional<scsi::Tpgs> TpgsFromName(std::string_view s) {
  if (s == "none") return scsi::Tpgs::kNone;
  if (s == "implicit") return scsi::Tpgs::kImplicit;
  if (s == "explicit") return scsi::Tpgs::kExplicit;
  if (s == "both") return scsi::Tpgs::kBoth;
  return std::nullopt;
}

std::optional<SimProvisioning> ProvisioningFromName(std::string_view s) {
  if (s == "thin") return SimProvisioning::kThin;
  if (s == "thick") return SimProvisioning::kThick;
  return std::nullopt;
}

bool ParseSimLu(Walker& w, const toml::table& t, const std::string& p,
                const std::set<std::uint16_t>& groups, scsi::Tpgs tpgs, SimLuConfig* lu) {
  if (!w.CheckKeys(t, p,
                   {"lun", "size", "block_size", "provisioning", "owner_group", "states",
                    "preferred_group"})) {
    return false;
  }
  if (t.get("lun") == nullptr) return w.Fail(t, Dotted(p, "lun"), "missing (required)");
  if (!w.Unsigned(t, p, "lun", &lu->lun, 0, 16383)) return false;
  if (!w.Unsigned(t, p, "block_size", &lu->block_size, 512, 4096)) return false;
  if (lu->block_size != 512 && lu->block_size != 1024 && lu->block_size != 2048 &&
      lu->block_size != 4096) {
    return w.Fail(*t.get("block_size"), Dotted(p, "block_size"),
                  std::to_string(lu->block_size) + " is not 512, 1024, 2048 or 4096");
  }
  if (const auto* pn = t.get("provisioning")) {
    const std::string key = Dotted(p, "provisioning");
    const auto* ps = pn->as_string();
    if (ps == nullptr) return w.WrongType(*pn, key, "a string");
    const auto prov = ProvisioningFromName(ps->get());
    if (!prov) return w.Fail(*pn, key, Quoted(ps->get()) + " is not thin or thick");
    lu->provisioning = *prov;
  }
  const toml::node* sn = t.get("size");
  if (sn == nullptr) return w.Fail(t, Dotted(p, "size"), "missing (required)");
  if (const auto* ss = sn->as_string()) {
    const auto v = ParseSize(ss->get());
    if (!v) {
      return w.Fail(*sn, Dotted(p, "size"),
                    Quoted(ss->get()) + " is not a size (bytes, or a number with KiB/MiB/GiB/TiB)");
    }
    lu->size_bytes = *v;
  } else {
    std::int64_t x = 0;
    if (!sn->is_integer()) return w.WrongType(*sn, Dotted(p, "size"), "a size (integer or string)");
    if (!w.Int(*sn, Dotted(p, "size"), 1, std::numeric_limits<std::int64_t>::max(), &x)) {
      return false;
    }
    lu->size_bytes = static_cast<std::uint64_t>(x);
  }
  if (lu->size_bytes == 0 || lu->size_bytes % lu->block_size != 0) {
    return w.Fail(*sn, Dotted(p, "size"),
                  std::to_string(lu->size_bytes) +
                      " bytes is not a positive multiple of the block size " +
                      std::to_string(lu->block_size));
  }
  const auto group_key = [&](std::string_view key, std::optional<std::uint16_t>* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return true;
    std::int64_t x = 0;
    if (!w.Int(*n, Dotted(p, key), 1, 65535, &x)) return false;
    if (groups.count(static_cast<std::uint16_t>(x)) == 0) {
      return w.Fail(*n, Dotted(p, key), "group " + std::to_string(x) + " has no port in sim.port");
    }
    *out = static_cast<std::uint16_t>(x);
    return true;
  };
  if (!group_key("owner_group", &lu->owner_group) ||
      !group_key("preferred_group", &lu->preferred_group)) {
    return false;
  }
  if (const auto* stn = t.get("states")) {
    const toml::table* st = nullptr;
    const std::string sp = Dotted(p, "states");
    if (!w.Table(*stn, sp, &st)) return false;
    for (auto&& [k, v] : *st) {
      const std::string kp = Dotted(sp, k.str());
      std::uint32_t g = 0;
      bool digits = !k.str().empty() && k.str().size() <= 5;
      for (const char c : k.str()) {
        digits = digits && c >= '0' && c <= '9';
        if (digits) g = g * 10 + static_cast<std::uint32_t>(c - '0');
      }
      if (!digits || g == 0 || g > 65535 || groups.count(static_cast<std::uint16_t>(g)) == 0) {
        return w.Fail(k.source(), kp,
                      "not a target port group of sim.port (keys are group numbers)");
      }
      const auto* vs = v.as_string();
      if (vs == nullptr) return w.WrongType(v, kp, "a state name");
      const auto state = SimStateFromName(vs->get());
      if (!state) {
        return w.Fail(
            v, kp,
            Quoted(vs->get()) + " is not an initial state (ao, an, standby, unavailable, offline)");
      }
      lu->states.push_back({static_cast<std::uint16_t>(g), *state});
    }
    // toml++ orders keys as strings ("10" < "2"); keep the groups in number order.
    std::sort(lu->states.begin(), lu->states.end(),
              [](const SimGroupState& a, const SimGroupState& b) {
                return a.target_port_group < b.target_port_group;
              });
  }
  if (tpgs == scsi::Tpgs::kNone) {
    if (lu->owner_group || !lu->states.empty()) {
      return w.Fail(t, p, "owner_group and states need ALUA (sim.tpgs is \"none\")");
    }
  } else if (!lu->owner_group) {
    // Without an owner every group must be named.
    for (const auto g : groups) {
      bool named = false;
      for (const auto& s : lu->states) named = named || s.target_port_group == g;
      if (!named) {
        return w.Fail(t, p,
                      "group " + std::to_string(g) + " has no state: set owner_group or states");
      }
    }
  }
  return true;
}

bool ParseSim(Walker& w, const toml::table& t, SimConfig* sim) {
  constexpr std::string_view p = "sim";
  if (!w.CheckKeys(t, p,
                   {"target_name", "vendor", "product", "tpgs", "implicit_transition_time", "seed",
                    "port", "lu"}) ||
      !w.String(t, p, "target_name", &sim->target_name, 223, false, true) ||
      !w.String(t, p, "vendor", &sim->vendor, kMaxVendorChars, false, true) ||
      !w.String(t, p, "product", &sim->product, kMaxProductChars, false, true) ||
      !w.Unsigned(t, p, "implicit_transition_time", &sim->implicit_transition_time, 0, 255) ||
      !w.Unsigned(t, p, "seed", &sim->seed)) {
    return false;
  }
  if (sim->target_name.empty() || sim->vendor.empty() || sim->product.empty()) {
    return w.Fail(t, p, "target_name, vendor and product must not be empty");
  }
  if (const auto* n = t.get("tpgs")) {
    const auto* s = n->as_string();
    if (s == nullptr) return w.WrongType(*n, "sim.tpgs", "a string");
    const auto tp = TpgsFromName(s->get());
    if (!tp) {
      return w.Fail(*n, "sim.tpgs", Quoted(s->get()) + " is not none, implicit, explicit or both");
    }
    sim->tpgs = *tp;
  }
  const toml::node* pn = t.get("port");
  if (pn == nullptr)
    return w.Fail(t, "sim.port", "missing: the array needs at least one [[sim.port]]");
  std::vector<const toml::table*> ports;
  if (!w.Tables(*pn, "sim.port", &ports)) return false;
  if (ports.empty()) return w.Fail(*pn, "sim.port", "the array needs at least one port");
  std::set<std::uint16_t> rtps;
  std::set<std::uint16_t> groups;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const toml::table& pt = *ports[i];
    const std::string pp = Indexed("sim.port", i);
    SimPortConfig port;
    if (!w.CheckKeys(pt, pp,
                     {"relative_target_port", "target_port_group", "latency_us",
                      "bandwidth_bytes_per_second", "service_time_us"})) {
      return false;
    }
    if (pt.get("relative_target_port") == nullptr) {
      return w.Fail(pt, Dotted(pp, "relative_target_port"), "missing (required)");
    }
    // SPC-4 7.8.6.7 / 7.8.6.8: relative port and group 0 are reserved.
    if (!w.Unsigned(pt, pp, "relative_target_port", &port.relative_target_port, 1) ||
        !w.Unsigned(pt, pp, "target_port_group", &port.target_port_group, 1) ||
        !w.Unsigned(pt, pp, "latency_us", &port.latency_us, 0, kMaxSimDelayUs) ||
        !w.Unsigned(pt, pp, "bandwidth_bytes_per_second", &port.bandwidth_bytes_per_second) ||
        !w.Unsigned(pt, pp, "service_time_us", &port.service_time_us, 0, kMaxSimDelayUs)) {
      return false;
    }
    if (!rtps.insert(port.relative_target_port).second) {
      return w.Fail(*pt.get("relative_target_port"), Dotted(pp, "relative_target_port"),
                    "duplicate port " + std::to_string(port.relative_target_port));
    }
    groups.insert(port.target_port_group);
    sim->ports.push_back(port);
  }
  const toml::node* ln = t.get("lu");
  if (ln == nullptr) return w.Fail(t, "sim.lu", "missing: the array needs at least one [[sim.lu]]");
  std::vector<const toml::table*> lus;
  if (!w.Tables(*ln, "sim.lu", &lus)) return false;
  if (lus.empty()) return w.Fail(*ln, "sim.lu", "the array needs at least one LU");
  std::set<std::uint64_t> luns;
  for (std::size_t i = 0; i < lus.size(); ++i) {
    SimLuConfig lu;
    const std::string lp = Indexed("sim.lu", i);
    if (!ParseSimLu(w, *lus[i], lp, groups, sim->tpgs, &lu)) return false;
    if (!luns.insert(lu.lun).second) {
      return w.Fail(*lus[i]->get("lun"), Dotted(lp, "lun"),
                    "duplicate LUN " + std::to_string(lu.lun));
    }
    sim->lus.push_back(std::move(lu));
  }
  return true;
}

Expected<Config> Walk(const toml::table& root, std::string_view name) {
  Walker w(name);
  Config c;
  const auto fail = [&w]() -> Expected<Config> { return MakeUnexpected(w.error()); };
  if (!w.CheckKeys(root, "",
                   {"management", "defaults", "timers", "target_defaults", "claim", "merge", "disk",
                    "target", "sim"})) {
    return fail();
  }
  const toml::table* t = nullptr;
  if (const auto* n = root.get("management")) {
    if (!w.Table(*n, "management", &t) || !ParseManagement(w, *t, &c.management)) return fail();
  }
  if (const auto* n = root.get("defaults")) {
    if (!w.Table(*n, "defaults", &t) || !ParseDefaults(w, *t, &c.defaults)) return fail();
  }
  if (const auto* n = root.get("timers")) {
    if (!w.Table(*n, "timers", &t) || !ParseTimers(w, *t, &c.timers)) return fail();
  }
  const bool strict = c.defaults.strict_msdsm;
  if (const auto* n = root.get("target_defaults")) {
    if (!ParseTargetDefaults(w, *n, strict, &c.target_defaults)) return fail();
  }
  if (const auto* n = root.get("claim")) {
    if (!ParseClaim(w, *n, &c.claim)) return fail();
  }
  if (const auto* n = root.get("merge")) {
    if (!ParseMerge(w, *n, &c.merge)) return fail();
  }
  if (const auto* n = root.get("disk")) {
    if (!ParseDisks(w, *n, strict, &c.disks)) return fail();
  }
  const toml::node* targets = root.get("target");
  const toml::node* sim = root.get("sim");
  if (targets != nullptr && sim != nullptr) {
    w.Fail(*sim, "sim", "[sim] and [[target]] are both present; use one of them");
    return fail();
  }
  if (targets == nullptr && sim == nullptr) {
    w.Fail(toml::source_region{{1, 1}, {1, 1}, nullptr}, "",
           "neither [sim] nor [[target]]: say which array to use");
    return fail();
  }
  if (targets != nullptr) {
    if (!ParseTargets(w, *targets, &c.targets)) return fail();
    if (c.targets.empty()) {
      w.Fail(*targets, "target", "at least one target is needed");
      return fail();
    }
  } else {
    SimConfig s;
    if (!w.Table(*sim, "sim", &t) || !ParseSim(w, *t, &s)) return fail();
    c.sim = std::move(s);
  }
  return c;
}

}  // namespace

Expected<Config> ParseConfig(std::string_view text, std::string_view name) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return MakeUnexpected(InvalidParameter(std::string(name) + ":" + std::to_string(b.line) + ":" +
                                           std::to_string(b.column) + ": " +
                                           std::string(e.description())));
  }
  return Walk(root, name);
}

Expected<Config> LoadConfig(const std::string& path) {
  // An ifstream opens a directory and reads it as empty: say what it is.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return MakeUnexpected(
        InvalidParameter(path + ": is a directory, not a configuration file (config=FILE.toml)"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return MakeUnexpected(InvalidParameter(path + ": cannot open: " + std::strerror(err)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return MakeUnexpected(InvalidParameter(path + ": cannot read"));
  return ParseConfig(text.str(), path);
}

}  // namespace openmpio::config
