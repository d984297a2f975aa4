#include "anomaly/base/duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace anomaly {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t ms;
};
// Largest first: the order a duration string must follow.
constexpr std::array<Unit, 7> kUnits{{{"y", 365LL * 24 * 3600 * 1000},
                                      {"w", 7LL * 24 * 3600 * 1000},
                                      {"d", 24LL * 3600 * 1000},
                                      {"h", 3600LL * 1000},
                                      {"m", 60LL * 1000},
                                      {"s", 1000},
                                      {"ms", 1}}};

// The longest duration accepted: 2^63 - 1 nanoseconds (about 292 years), the most a Prometheus duration
// (Go's time.Duration) can hold. Bounding every parsed duration there keeps the arithmetic done on
// them (5 * step, 2 * period, now - history, ...) far from int64 overflow in milliseconds: two
// config values that parsed but overflowed in such products were found by fuzzing.
constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max() / 1'000'000;

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidInput,
                     "invalid duration \"" + std::string(text) + "\": " + std::string(why));
  };
  if (text.empty()) return fail("empty");
  if (text == "0") return Duration(0);
  int64_t total = 0;
  size_t next_unit = 0;  // index into kUnits: units must appear largest first, each once
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return fail("expected a number, e.g. 30s, 5m, 1h30m, 7d");
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) return fail("too large");
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    size_t j = i;
    while (j < text.size() && (text[j] < '0' || text[j] > '9')) ++j;
    std::string_view suffix = text.substr(i, j - i);
    if (suffix.empty()) return fail("missing unit (one of ms, s, m, h, d, w, y)");
    size_t u = next_unit;
    while (u < kUnits.size() && kUnits[u].suffix != suffix) ++u;
    if (u == kUnits.size()) {
      for (const Unit& unit : kUnits) {
        if (unit.suffix == suffix) return fail("units must go from largest to smallest, each once");
      }
      return fail("unknown unit \"" + std::string(suffix) + "\" (one of ms, s, m, h, d, w, y)");
    }
    if (n > std::numeric_limits<int64_t>::max() / kUnits[u].ms) return fail("too large");
    int64_t add = n * kUnits[u].ms;
    if (total > std::numeric_limits<int64_t>::max() - add) return fail("too large");
    total += add;
    if (total > kMaxMs) return fail("too large (at most 292y, the longest duration Prometheus can hold)");
    next_unit = u + 1;
    i = j;
  }
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const Unit& unit : kUnits) {
    if (ms >= unit.ms) {
      out += std::to_string(ms / unit.ms);
      out += unit.suffix;
      ms %= unit.ms;
    }
  }
  return out;
}

}  // namespace anomaly
