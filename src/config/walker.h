// The TOML walker that the configuration file's parser shares between its
// files; nothing outside src/config includes this (config.h stays free of
// toml++).
//   walker.cpp     typed reads of keys, unknown-key refusal ("did you mean"),
//                  ranges (the timers' from dsm/settings.h), the messages
//   parse.cpp      the top level: [management], [defaults], [timers],
//                  [[target_defaults]], [[claim]], [[merge]], [[disk]],
//                  [[target]]; ParseConfig and LoadConfig
//   parse_sim.cpp  the embedded array: [sim], [[sim.port]], [[sim.lu]]
//
// Every read returns false after recording the first error, whose message is
// "FILE:LINE:COL: dotted.key: what"; the caller returns false at once, so
// nothing after a mistake is read. An absent optional key leaves the output
// as it was (the default).
#pragma once

#include <toml++/toml.h>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "dsm/settings.h"
#include "openmpio/status.h"

namespace openmpio::config {

// `"s"`.
[[nodiscard]] std::string Quoted(std::string_view s);
// "prefix.key", or "key" for the root.
[[nodiscard]] std::string Dotted(std::string_view prefix, std::string_view key);
// "prefix[i]".
[[nodiscard]] std::string Indexed(std::string_view prefix, std::size_t i);

// The largest value of U that a TOML integer (signed 64-bit) can hold.
template <typename U>
constexpr std::int64_t MaxOf() {
  constexpr auto kI64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return std::numeric_limits<U>::max() > kI64Max
             ? std::numeric_limits<std::int64_t>::max()
             : static_cast<std::int64_t>(std::numeric_limits<U>::max());
}

// What a DsmPathId's text (a value or a key) must be.
inline constexpr std::string_view kPathIdForm =
    "a DsmPathId (\"0x\" and 1-16 hex digits, non-zero)";

class Walker {
 public:
  explicit Walker(std::string_view file) : file_(file) {}

  [[nodiscard]] const Status& error() const { return error_; }

  bool Fail(const toml::source_region& where, std::string_view key, std::string_view what);
  bool Fail(const toml::node& where, std::string_view key, std::string_view what) {
    return Fail(where.source(), key, what);
  }
  // "FILE:LINE:COL: key", the start of Fail's message.
  [[nodiscard]] std::string Where(const toml::source_region& where, std::string_view key) const;

  // Every key of `table` must be one of `known`.
  bool CheckKeys(const toml::table& table, std::string_view prefix,
                 std::initializer_list<std::string_view> known) {
    return CheckKeys(table, prefix, std::span<const std::string_view>(known.begin(), known.size()));
  }
  bool CheckKeys(const toml::table& table, std::string_view prefix,
                 std::span<const std::string_view> known);

  // "missing (required)" at `table` when it has no `key`.
  bool Required(const toml::table& table, std::string_view prefix, std::string_view key);

  bool WrongType(const toml::node& n, std::string_view key, std::string_view expected);

  // An integer within [min, max].
  bool Int(const toml::node& n, std::string_view key, std::int64_t min, std::int64_t max,
           std::int64_t* out);

  // table.key, when present, as an integer within [min, max] (U's range by default).
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
  // The same, for a key whose absence is kept (nullopt).
  template <typename U>
  bool OptUnsigned(const toml::table& t, std::string_view prefix, std::string_view key,
                   std::optional<U>* out, std::int64_t min = 0, std::int64_t max = MaxOf<U>()) {
    if (t.get(key) == nullptr) return true;
    U x{};
    if (!Unsigned(t, prefix, key, &x, min, max)) return false;
    *out = x;
    return true;
  }

  // A setting of dsm/settings.h: its name, its range and its words.
  template <typename U>
  bool Setting(const toml::table& t, std::string_view prefix, dsm::Setting s, U* out) {
    std::optional<std::int64_t> x;
    if (!SettingValue(t, prefix, s, &x)) return false;
    if (x) *out = static_cast<U>(*x);
    return true;
  }

  bool Bool(const toml::table& t, std::string_view prefix, std::string_view key, bool* out,
            bool allow_01 = false);

  // A string of at most `max_chars` characters (0: any); `required`: present
  // and not empty. Printable ASCII only where INQUIRY fields or names go
  // (SPC-4 4.4.1).
  bool String(const toml::table& t, std::string_view prefix, std::string_view key, std::string* out,
              std::size_t max_chars = 0, bool required = false, bool ascii = false);

  // An array of non-empty strings; `nodes` gets each string's node (for
  // messages about one of them).
  bool StringArray(const toml::table& t, std::string_view prefix, std::string_view key,
                   std::vector<std::string>* out, std::vector<const toml::node*>* nodes);

  // A string naming one value of E: `from_name` reads it into `out` (an E or
  // an optional<E>); otherwise the message is "\"TEXT\" is not " +
  // `not_what` ("thin or thick"). `expected` is what a value of another type
  // is told it should be.
  template <typename E, typename Out>
  bool NamedValue(const toml::node& n, std::string_view key, std::string_view expected,
                  std::optional<E> (*from_name)(std::string_view), std::string_view not_what,
                  Out* out) {
    const auto* s = n.as_string();
    if (s == nullptr) return WrongType(n, key, expected);
    const std::optional<E> v = from_name(s->get());
    if (!v) return Fail(n, key, Quoted(s->get()) + " is not " + std::string(not_what));
    *out = *v;
    return true;
  }
  // table.key, when present, as NamedValue with a string expected.
  template <typename E, typename Out>
  bool Named(const toml::table& t, std::string_view prefix, std::string_view key,
             std::optional<E> (*from_name)(std::string_view), std::string_view not_what, Out* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return true;
    return NamedValue(*n, Dotted(prefix, key), "a string", from_name, not_what, out);
  }

  // A policy name or number, 1-7; 7 refused when `strict`.
  bool Policy(const toml::node& n, std::string_view key, bool strict, dsm::LoadBalancePolicy* out);

  bool PathId(const toml::node& n, std::string_view key, dsm::DsmPathId* out);
  bool OptPathId(const toml::table& t, std::string_view prefix, std::string_view key,
                 std::optional<dsm::DsmPathId>* out);

  // A section that must be a table: [name] (or an inline table).
  bool Table(const toml::node& n, std::string_view key, const toml::table** out);
  // A section that must be an array of tables: [[name]].
  bool Tables(const toml::node& n, std::string_view key, std::vector<const toml::table*>* out);

 private:
  // The value of setting `s` in `t`, checked against its range; nullopt
  // when absent. A flag (max 1) is a boolean or 0/1.
  bool SettingValue(const toml::table& t, std::string_view prefix, dsm::Setting s,
                    std::optional<std::int64_t>* out);

  std::string file_;
  Status error_;
};

// parse_sim.cpp: the [sim] table into `sim`.
bool ParseSim(Walker& w, const toml::table& t, SimConfig* sim);

}  // namespace openmpio::config
