#include "exporter/config/rfc3339.h"

#include <chrono>
#include <cstdio>

namespace anomaly::config {
namespace {

// Reads exactly `width` digits at text[pos]; advances pos.
std::optional<int> Digits(std::string_view text, size_t& pos, size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int n = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  pos += width;
  return n;
}

bool Expect(std::string_view text, size_t& pos, std::string_view any_of) {
  if (pos >= text.size() || any_of.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<TimePoint> ParseRfc3339(std::string_view text) {
  using namespace std::chrono;
  size_t pos = 0;
  std::optional<int> y = Digits(text, pos, 4);
  if (!y || !Expect(text, pos, "-")) return std::nullopt;
  std::optional<int> mo = Digits(text, pos, 2);
  if (!mo || !Expect(text, pos, "-")) return std::nullopt;
  std::optional<int> d = Digits(text, pos, 2);
  if (!d || !Expect(text, pos, "Tt ")) return std::nullopt;
  std::optional<int> h = Digits(text, pos, 2);
  if (!h || !Expect(text, pos, ":")) return std::nullopt;
  std::optional<int> mi = Digits(text, pos, 2);
  if (!mi || !Expect(text, pos, ":")) return std::nullopt;
  std::optional<int> s = Digits(text, pos, 2);
  if (!s) return std::nullopt;
  int ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    std::optional<int> oh = Digits(text, pos, 2);
    if (!oh || !Expect(text, pos, ":")) return std::nullopt;
    std::optional<int> om = Digits(text, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = sign * (*oh * 60 + *om);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  year_month_day date{year(*y), month(static_cast<unsigned>(*mo)), day(static_cast<unsigned>(*d))};
  if (!date.ok() || *h > 23 || *mi > 59 || *s > 59) return std::nullopt;
  return TimePoint(sys_days(date)) + hours(*h) + minutes(*mi) + seconds(*s) + milliseconds(ms) -
         minutes(offset_minutes);
}

std::string FormatRfc3339(TimePoint t) {
  using namespace std::chrono;
  sys_days day_start = floor<days>(t);
  year_month_day date(day_start);
  auto in_day = t - day_start;
  long long total_ms = in_day.count();
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld", static_cast<int>(date.year()),
                        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                        total_ms / 3600000, total_ms / 60000 % 60, total_ms / 1000 % 60);
  std::string out(buf, static_cast<size_t>(n));
  if (total_ms % 1000 != 0) {
    std::snprintf(buf, sizeof buf, ".%03lld", total_ms % 1000);
    out += buf;
  }
  return out + "Z";
}

}  // namespace anomaly::config
