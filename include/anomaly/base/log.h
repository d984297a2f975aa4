// Structured logging for the whole process: logfmt (default) or JSON lines on stderr, with fixed keys
// (level, msg, then the caller's fields such as detector, series, err, duration_seconds).
// Thread-safe: each line is written with one locked write. Configure() once at start-up (and on flag
// changes); logging before it uses info/logfmt.
//
//   log::Warn("query failed", {{"detector", d.name}, {"err", e.message}});
#pragma once

#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace anomaly::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kLogfmt, kJson };

struct Field {
  std::string_view key;
  std::string value;
};

std::optional<Level> ParseLevel(std::string_view text);    // debug|info|warn|error
std::optional<Format> ParseFormat(std::string_view text);  // logfmt|json

// Sets the minimum level, the format and the sink (nullptr = std::cerr). The sink must outlive logging.
void Configure(Level level, Format format, std::ostream* sink = nullptr);
bool Enabled(Level level);
void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kError, m, f); }

}  // namespace anomaly::log
