// Fuzzes config::ParseConfig (src/config/config.h) with arbitrary text: it
// never crashes; a refusal is STATUS_INVALID_PARAMETER with a message (the
// header's "FILE:LINE:COL: dotted.key: what"); an accepted file survives the
// round trip the header promises: FormatConfig -> ParseConfig gives an equal
// Config, and formatting that again gives the same text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"

namespace {

[[noreturn]] void Violation(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "config invariant violated: %s\n--- input ---\n%.*s\n--- detail ---\n%s\n",
               what, static_cast<int>(input.size()), input.data(), detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace config = openmpio::config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);  // NOLINT
  auto parsed = config::ParseConfig(text, "fuzz.toml");
  // OPENMPIO_FUZZ_VERBOSE=1: say whether each input parsed (to check the seeds).
  static const bool verbose = std::getenv("OPENMPIO_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "%s\n", parsed ? "parsed" : parsed.error().ToString().c_str());
  }
  if (!parsed) {
    const openmpio::Status& st = parsed.error();
    if (!st.Is(openmpio::NtStatus::kInvalidParameter) || st.message().empty()) {
      Violation("a refusal is not STATUS_INVALID_PARAMETER with a message", text, st.ToString());
    }
    return 0;
  }
  const std::string formatted = config::FormatConfig(*parsed);
  auto again = config::ParseConfig(formatted, "formatted.toml");
  if (!again) {
    Violation("FormatConfig wrote a file ParseConfig refuses", text,
              again.error().ToString() + "\n--- formatted ---\n" + formatted);
  }
  if (!(*again == *parsed)) {
    Violation("FormatConfig -> ParseConfig changed the Config", text,
              "--- formatted ---\n" + formatted + "\n--- formatted again ---\n" +
                  config::FormatConfig(*again));
  }
  const std::string formatted_again = config::FormatConfig(*again);
  if (formatted_again != formatted) {
    Violation("FormatConfig is not stable over a round trip", text,
              "--- formatted ---\n" + formatted + "\n--- formatted again ---\n" + formatted_again);
  }
  return 0;
}
