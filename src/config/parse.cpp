// ParseConfig / LoadConfig: toml++ reads the text; the walker (walker.h)
// walks the resulting tree section by section, checking every key against the
// list of known ones, every value's type and range, and the cross-checks
// (duplicate aliases and portals, [sim] or [[target]] or both). This file holds the
// top level and every section but [sim] (parse_sim.cpp). The first mistake
// stops the walk and becomes the only result: a Status whose message is
// "FILE:LINE:COL: dotted.key: what". toml++ throws on syntax errors; that is
// caught here, so no exception leaves this file.
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/walker.h"
#include "dsm/names.h"
#include "dsm/policy.h"

namespace openmpio::config {

namespace {

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
        !w.String(t, p, "product", &d.product, kMaxProductChars, true, true) ||
        !w.Required(t, p, "policy") ||
        !w.Policy(*t.get("policy"), Dotted(p, "policy"), strict, &d.policy) ||
        !w.OptPathId(t, p, "preferred_path", &d.preferred_path)) {
      return false;
    }
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

// Where t.key is written, or t itself when the key is absent.
const toml::source_region& SourceOf(const toml::table& t, std::string_view key) {
  const toml::node* n = t.get(key);
  return n != nullptr ? n->source() : t.source();
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
        !w.StringArray(t, p, "targets", &r.targets, &nodes)) {
      return false;
    }
    if (r.targets.size() < 2) {
      return w.Fail(SourceOf(t, "targets"), Dotted(p, "targets"),
                    "a merge names at least 2 targets");
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
  return dsm::PathStateFromName(s, dsm::Spelling::kConfig);
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
    }
    if (!w.OptPathId(t, p, "preferred_path", &d.preferred_path)) return false;
    for (const std::string_view key : {"policy", "preferred_path"}) {
      if (const auto* kn = t.get(key)) {
        d.origins.at[std::string(key)] = w.Where(kn->source(), Dotted(p, key));
      }
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
          return w.Fail(k.source(), kp, Quoted(k.str()) + " is not " + std::string(kPathIdForm));
        }
        if (const auto prev = first_key.find(*id); prev != first_key.end()) {
          // toml++ visits keys in text order ("0x01" before "0x1"); name the
          // one that comes later in the file.
          const toml::key* later = prev->second;
          const auto& a = later->source().begin;
          const auto& b = k.source().begin;
          if (b.line > a.line || (b.line == a.line && b.column > a.column)) later = &k;
          return w.Fail(later->source(), Dotted(pp, later->str()),
                        "duplicate DsmPathId " + dsm::PathIdText(*id));
        }
        first_key.emplace(*id, &k);
        const toml::table* pt = nullptr;
        if (!w.Table(v, kp, &pt)) return false;
        PathSetting s;
        if (!w.CheckKeys(*pt, kp, {"weight", "state"}) ||
            !w.OptUnsigned(*pt, kp, "weight", &s.weight) ||
            !w.Named(*pt, kp, "state", PathStateFromName, "a path state (ao, au, sb, ua)",
                     &s.requested_state)) {
          return false;
        }
        d.paths.emplace(*id, s);
        d.origins.at["paths." + dsm::PathIdText(*id)] = w.Where(k.source(), kp);
      }
    }
    out->push_back(std::move(d));
  }
  return true;
}

// "host:port", "host" (port 3260), "[v6]:port", "[v6]". Returns the
// normalized "host:port" text for duplicate checks, or nullopt.
constexpr std::string_view kIscsiScheme = "iscsi://";

std::optional<std::string> NormalizePortal(std::string_view s) {
  // libiscsi's portal URL (ISCSI_PORTAL_URL_SYNTAX), without credentials.
  if (s.substr(0, kIscsiScheme.size()) == kIscsiScheme) {
    s.remove_prefix(kIscsiScheme.size());
    if (!s.empty() && s.back() == '/') s.remove_suffix(1);
    if (s.find('/') != std::string_view::npos || s.find('@') != std::string_view::npos) {
      return std::nullopt;
    }
  }
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

// A key whose value is one of a few names (`names` lists them for the message).
template <typename T>
bool Named(Walker& w, const toml::table& t, std::string_view p, std::string_view key,
           std::string_view names, std::optional<T> (*from_name)(std::string_view), T* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  const auto* s = n->as_string();
  if (s == nullptr) return w.WrongType(*n, Dotted(p, key), "a string");
  const auto v = from_name(s->get());
  if (!v) {
    return w.Fail(*n, Dotted(p, key), Quoted(s->get()) + " is not one of " + std::string(names));
  }
  *out = *v;
  return true;
}

// RFC 7143 12.1.3: CHAP names and secrets are at most 255 bytes here (the
// initiator's buffers in libiscsi 1.19); a secret is never quoted back.
constexpr std::size_t kMaxChapChars = 255;

bool ChapSecret(Walker& w, const toml::table& t, std::string_view p, std::string_view key,
                std::string* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  const auto* s = n->as_string();
  if (s == nullptr) return w.WrongType(*n, Dotted(p, key), "a string");
  const std::string& v = s->get();
  if (v.empty() || v.size() > kMaxChapChars) {
    return w.Fail(*n, Dotted(p, key),
                  "a secret of 1.." + std::to_string(kMaxChapChars) + " characters is needed");
  }
  *out = v;
  return true;
}

// A name goes with a secret, in each direction; mutual CHAP needs ours too.
bool ParseChap(Walker& w, const toml::table& t, std::string_view p, IscsiTargetConfig* c) {
  if (!w.String(t, p, "chap_username", &c->chap_username, kMaxChapChars, false, true) ||
      !ChapSecret(w, t, p, "chap_secret", &c->chap_secret) ||
      !w.String(t, p, "target_chap_username", &c->target_chap_username, kMaxChapChars, false,
                true) ||
      !ChapSecret(w, t, p, "target_chap_secret", &c->target_chap_secret)) {
    return false;
  }
  const auto pair = [&](const std::string& name, const std::string& secret,
                        std::string_view name_key, std::string_view secret_key) {
    if (name.empty() == secret.empty()) return true;
    const std::string_view missing = name.empty() ? name_key : secret_key;
    return w.Fail(
        t, Dotted(p, missing),
        "missing: " + std::string(name_key) + " and " + std::string(secret_key) + " go together");
  };
  if (!pair(c->chap_username, c->chap_secret, "chap_username", "chap_secret") ||
      !pair(c->target_chap_username, c->target_chap_secret, "target_chap_username",
            "target_chap_secret")) {
    return false;
  }
  if (!c->target_chap_username.empty() && c->chap_username.empty()) {
    return w.Fail(t, Dotted(p, "chap_username"),
                  "missing: mutual CHAP (target_chap_*) needs chap_username and chap_secret");
  }
  return true;
}

bool ParseTargetUrl(Walker& w, const toml::table& t, std::string_view p, IscsiTargetConfig* c) {
  const toml::node* n = t.get("url");
  if (n == nullptr) return true;
  const std::string key = Dotted(p, "url");
  const auto* s = n->as_string();
  if (s == nullptr) return w.WrongType(*n, key, "a string");
  for (const char* other : {"name", "portals", "luns"}) {
    if (t.contains(other)) {
      return w.Fail(*n, key, std::string("url stands for name, portals and luns: drop ") + other);
    }
  }
  const std::string_view v = s->get();
  const auto bad = [&](std::string_view why) {
    return w.Fail(
        *n, key,
        Quoted(std::string(v)) + " is not iscsi://host[:port]/target[/lun]: " + std::string(why));
  };
  if (v.substr(0, kIscsiScheme.size()) != kIscsiScheme) return bad("no iscsi:// scheme");
  std::string_view rest = v.substr(kIscsiScheme.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("no target name");
  if (rest.substr(0, slash).find('@') != std::string_view::npos) {
    return bad("credentials do not go in the URL (chap_username, chap_secret)");
  }
  const auto portal = NormalizePortal(rest.substr(0, slash));
  if (!portal) return bad("the portal cannot be read");
  rest.remove_prefix(slash + 1);
  const auto lun_slash = rest.find('/');
  const std::string_view target = rest.substr(0, lun_slash);
  if (target.empty() || target.size() > 223) return bad("no target name, or one over 223 bytes");
  c->name = std::string(target);
  c->portals = {*portal};
  if (lun_slash != std::string_view::npos) {
    const std::string_view lun = rest.substr(lun_slash + 1);
    std::uint32_t x = 0;
    const auto [end, ec] = std::from_chars(lun.data(), lun.data() + lun.size(), x);
    if (lun.empty() || ec != std::errc() || end != lun.data() + lun.size() || x > 16383) {
      return bad("the LUN is not 0..16383");
    }
    c->luns = {x};
  }
  return true;
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
    // url = "iscsi://host[:port]/target[/lun]" stands for name, portals and
    // luns (libiscsi's URL syntax; CHAP goes in chap_* keys, not the URL).
    if (!ParseTargetUrl(w, t, p, &c)) return false;
    if (!w.CheckKeys(t, p,
                     {"name", "portals", "initiator_name", "luns", "login_timeout", "nop_interval",
                      "nop_missed", "chap_username", "chap_secret", "target_chap_username",
                      "target_chap_secret", "header_digest", "alua", "sendtargets",
                      "command_timeout", "url"}) ||
        !w.String(t, p, "name", &c.name, 223, c.name.empty(), true) ||  // RFC 7143 4.2.7.1
        !w.String(t, p, "initiator_name", &c.initiator_name, 223, false, true) ||
        !w.StringArray(t, p, "portals", &c.portals, &nodes) ||
        !w.Unsigned(t, p, "login_timeout", &c.login_timeout, 1, dsm::kMaxSettingSeconds) ||
        !w.Unsigned(t, p, "nop_interval", &c.nop_interval, 0, dsm::kMaxSettingSeconds) ||
        !w.Unsigned(t, p, "nop_missed", &c.nop_missed, 1, 100) ||
        !w.Bool(t, p, "sendtargets", &c.sendtargets) ||
        !w.Unsigned(t, p, "command_timeout", &c.command_timeout, 1, dsm::kMaxSettingSeconds) ||
        !ParseChap(w, t, p, &c)) {
      return false;
    }
    if (!Named(w, t, p, "header_digest", "none, crc32c, prefer-crc32c", &HeaderDigestFromName,
               &c.header_digest) ||
        !Named(w, t, p, "alua", "auto, force, off", &AluaModeFromName, &c.alua)) {
      return false;
    }
    c.origins.at[""] = w.Where(t.source(), p);
    if (!names.insert(c.name).second) {
      const char* key = t.contains("name") ? "name" : "url";
      return w.Fail(*t.get(key), Dotted(p, key), "duplicate target " + Quoted(c.name));
    }
    if (c.portals.empty()) {
      return w.Fail(SourceOf(t, "portals"), Dotted(p, "portals"),
                    "a target needs at least one portal");
    }
    std::set<std::string> seen;
    for (std::size_t j = 0; j < nodes.size(); ++j) {  // the url's portal is read already
      const std::string key = Indexed(Dotted(p, "portals"), j);
      const auto norm = NormalizePortal(c.portals[j]);
      if (!norm) {
        return w.Fail(*nodes[j], key,
                      Quoted(c.portals[j]) + " is not a portal (host:port, [ipv6]:port)");
      }
      if (!seen.insert(*norm).second) {
        return w.Fail(*nodes[j], key, "duplicate portal " + Quoted(*norm));
      }
      c.portals[j] = *norm;  // what the transport connects to: host:port
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
    // Real storage has latency spikes of tens of milliseconds that are not
    // hangs: a floor fit for the embedded array would fail its paths again
    // and again (TimersConfig::hedge_floor_ms).
    const toml::node* timers = root.get("timers");
    if (timers == nullptr || timers->as_table() == nullptr ||
        !timers->as_table()->contains("hedge_floor_ms")) {
      c.timers.hedge_floor_ms = kTargetHedgeFloorMs;
    }
  }
  // Beside real storage or alone: the embedded array.
  if (sim != nullptr) {
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
    Walker w(name);
    w.Fail(e.source(), "", e.description());
    return MakeUnexpected(w.error());
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
  auto config = ParseConfig(text.str(), path);
  if (!config) return config;
  // A CHAP secret in a file everyone may read is a secret no more.
  struct stat st {};
  const bool secret =
      std::any_of(config->targets.begin(), config->targets.end(), [](const IscsiTargetConfig& t) {
        return !t.chap_secret.empty() || !t.target_chap_secret.empty();
      });
  if (secret && ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return MakeUnexpected(InvalidParameter(path +
                                           ": holds a CHAP secret but is readable by every " +
                                           "user (mode " + mode + "); chmod o-r " + path));
  }
  return config;
}

}  // namespace openmpio::config
