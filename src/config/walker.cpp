// The TOML walker (walker.h): typed reads of a toml++ tree, each mistake
// recorded once as "FILE:LINE:COL: dotted.key: what".
#include "config/walker.h"

#include <algorithm>
#include <string>

namespace openmpio::config {

namespace {

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

}  // namespace

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

std::string Dotted(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return std::string(prefix) + "." + std::string(key);
}

std::string Indexed(std::string_view prefix, std::size_t i) {
  return std::string(prefix) + "[" + std::to_string(i) + "]";
}

bool Walker::Fail(const toml::source_region& where, std::string_view key, std::string_view what) {
  std::string m = Where(where, key);
  if (!key.empty()) m += ": ";
  m += what;
  error_ = InvalidParameter(std::move(m));
  return false;
}

std::string Walker::Where(const toml::source_region& where, std::string_view key) const {
  return file_ + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column) +
         ": " + std::string(key);
}

bool Walker::CheckKeys(const toml::table& table, std::string_view prefix,
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

bool Walker::Required(const toml::table& table, std::string_view prefix, std::string_view key) {
  if (table.get(key) != nullptr) return true;
  return Fail(table, Dotted(prefix, key), "missing (required)");
}

bool Walker::WrongType(const toml::node& n, std::string_view key, std::string_view expected) {
  return Fail(n, key, "expected " + std::string(expected) + ", got " + TypeName(n.type()));
}

bool Walker::Int(const toml::node& n, std::string_view key, std::int64_t min, std::int64_t max,
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

bool Walker::SettingValue(const toml::table& t, std::string_view prefix, dsm::Setting s,
                          std::optional<std::int64_t>* out) {
  const dsm::SettingRange& r = dsm::RangeOf(s);
  const toml::node* n = t.get(r.name);
  if (n == nullptr) return true;
  if (r.max == 1) {
    bool b = false;
    if (!Bool(t, prefix, r.name, &b, true)) return false;
    *out = b ? 1 : 0;
    return true;
  }
  const std::string key = Dotted(prefix, r.name);
  const auto* v = n->as_integer();
  if (v == nullptr) return WrongType(*n, key, "an integer");
  if (!dsm::CheckSetting(s, v->get()).ok()) return Fail(*n, key, dsm::OutOfRange(r, v->get()));
  *out = v->get();
  return true;
}

bool Walker::Bool(const toml::table& t, std::string_view prefix, std::string_view key, bool* out,
                  bool allow_01) {
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

bool Walker::String(const toml::table& t, std::string_view prefix, std::string_view key,
                    std::string* out, std::size_t max_chars, bool required, bool ascii) {
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

bool Walker::StringArray(const toml::table& t, std::string_view prefix, std::string_view key,
                         std::vector<std::string>* out, std::vector<const toml::node*>* nodes) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  const std::string dotted = Dotted(prefix, key);
  const auto* a = n->as_array();
  if (a == nullptr) return WrongType(*n, dotted, "an array of strings");
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = *a->get(i);
    const auto* s = e.as_string();
    if (s == nullptr) return WrongType(e, Indexed(dotted, i), "a string");
    if (s->get().empty()) return Fail(e, Indexed(dotted, i), "must not be empty");
    out->push_back(s->get());
    nodes->push_back(&e);
  }
  return true;
}

bool Walker::Policy(const toml::node& n, std::string_view key, bool strict,
                    dsm::LoadBalancePolicy* out) {
  std::optional<dsm::LoadBalancePolicy> p;
  if (const auto* s = n.as_string()) {
    p = PolicyFromName(s->get());
    if (!p) {
      return Fail(n, key,
                  Quoted(s->get()) + " is not a policy (foo, rr, rrws, lqd, wp, lb, st or 1-7)");
    }
  } else if (n.is_integer()) {
    std::int64_t x = 0;
    if (!Int(n, key, 1, 7, &x)) return false;
    p = static_cast<dsm::LoadBalancePolicy>(static_cast<std::uint32_t>(x));
  } else {
    return WrongType(n, key, "a policy name or number");
  }
  if (!dsm::IsSelectablePolicy(*p, strict)) {
    return Fail(n, key, "policy 7 (st) is not accepted with defaults.strict_msdsm = true");
  }
  *out = *p;
  return true;
}

bool Walker::PathId(const toml::node& n, std::string_view key, dsm::DsmPathId* out) {
  return NamedValue(n, key, "a DsmPathId as a hex string \"0x...\"", ParsePathId, kPathIdForm, out);
}

bool Walker::OptPathId(const toml::table& t, std::string_view prefix, std::string_view key,
                       std::optional<dsm::DsmPathId>* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  dsm::DsmPathId id = 0;
  if (!PathId(*n, Dotted(prefix, key), &id)) return false;
  *out = id;
  return true;
}

bool Walker::Table(const toml::node& n, std::string_view key, const toml::table** out) {
  *out = n.as_table();
  if (*out == nullptr) return WrongType(n, key, "a table");
  return true;
}

bool Walker::Tables(const toml::node& n, std::string_view key,
                    std::vector<const toml::table*>* out) {
  const auto* a = n.as_array();
  if (a == nullptr) return WrongType(n, key, "an array of tables ([[" + std::string(key) + "]])");
  for (std::size_t i = 0; i < a->size(); ++i) {
    const auto* t = a->get(i)->as_table();
    if (t == nullptr) return WrongType(*a->get(i), Indexed(key, i), "a table");
    out->push_back(t);
  }
  return true;
}

}  // namespace openmpio::config
