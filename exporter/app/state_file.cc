#include "exporter/app/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "anomaly/base/log.h"

namespace anomaly::app {
namespace {

constexpr std::string_view kHeader = "anomaly_exporter_state 1";

// Percent-escapes what would break a space-separated line: '%', space, control bytes. Empty is "%".
std::string Escape(std::string_view s) {
  if (s.empty()) return "%";
  std::string out;
  for (unsigned char c : s) {
    if (c == '%' || c <= ' ' || c == 0x7f) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Result<std::string> Unescape(std::string_view s) {
  if (s == "%") return std::string();
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return MakeError(ErrorCode::kInvalidInput, "bad escape");
    }
    const unsigned value = static_cast<unsigned>(std::stoul(std::string(s.substr(i + 1, 2)), nullptr, 16));
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    const size_t sp = line.find(' ', i);
    out.push_back(line.substr(i, sp == std::string_view::npos ? std::string_view::npos : sp - i));
    if (sp == std::string_view::npos) break;
    i = sp + 1;
  }
  return out;
}

bool ToInt(std::string_view s, int64_t& out) {
  try {
    size_t used = 0;
    out = std::stoll(std::string(s), &used);
    return used == s.size();
  } catch (...) {
    return false;
  }
}

bool ToDouble(std::string_view s, double& out) {
  try {
    size_t used = 0;
    out = std::stod(std::string(s), &used);
    return used == s.size();
  } catch (...) {
    return false;
  }
}

std::string SystemError() { return std::strerror(errno); }

}  // namespace

std::string EncodeState(const std::vector<StoredSeries>& state) {
  std::string out(kHeader);
  out += '\n';
  size_t records = 0;
  for (const StoredSeries& s : state) {
    out += "series " + Escape(s.detector) + " " + std::to_string(s.labels.size());
    for (const Label& l : s.labels) out += " " + Escape(l.name) + " " + Escape(l.value);
    out += " " + Num(s.margin) + " " + std::to_string(s.margin_ms) + "\n";
    ++records;
    for (const EpisodeRecord& e : s.episodes) {
      out += "episode " + std::to_string(e.start_ms) + " " + std::to_string(e.end_ms) + " " +
             Num(e.peak_score) + " " + std::to_string(e.peak_ms) + " " + Num(e.peak_value) + " " +
             Num(e.peak_expected) + " ";
      if (e.feedback) {
        out += std::string(http::FeedbackVerdictName(e.feedback->verdict)) + " " +
               std::to_string(e.feedback->at_ms) + " " + Escape(e.feedback->comment);
      } else {
        out += "- 0 %";
      }
      out += "\n";
      ++records;
    }
  }
  out += "end " + std::to_string(records) + "\n";
  return out;
}

Result<std::vector<StoredSeries>> DecodeState(std::string_view text) {
  std::vector<StoredSeries> state;
  size_t line_no = 0, records = 0;
  bool ended = false;
  auto fail = [&line_no](const std::string& why) {
    return MakeError(ErrorCode::kInvalidInput, "line " + std::to_string(line_no) + ": " + why);
  };
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return fail("not terminated by a newline (truncated)");
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    if (ended) return fail("text after the end line");
    if (line_no == 1) {
      if (line != kHeader)
        return fail("not an anomaly_exporter state file (want \"" + std::string(kHeader) + "\")");
      continue;
    }
    const std::vector<std::string_view> f = Fields(line);
    if (f.empty()) return fail("empty line");
    if (f[0] == "series") {
      int64_t n = 0;
      if (f.size() < 5 || !ToInt(f[2], n) || n < 0 || f.size() != 5 + 2 * static_cast<size_t>(n)) {
        return fail("a series line needs DETECTOR N, N label pairs, MARGIN and MARGIN_MS");
      }
      StoredSeries s;
      Result<std::string> detector = Unescape(f[1]);
      if (!detector) return fail("detector: " + detector.error().message);
      s.detector = std::move(*detector);
      for (int64_t i = 0; i < n; ++i) {
        Result<std::string> name = Unescape(f[3 + 2 * i]);
        Result<std::string> value = Unescape(f[4 + 2 * i]);
        if (!name || !value) return fail("label: bad escape");
        s.labels.push_back(Label{std::move(*name), std::move(*value)});
      }
      if (!ToDouble(f[f.size() - 2], s.margin) || !std::isfinite(s.margin) || s.margin < 0 ||
          !ToInt(f[f.size() - 1], s.margin_ms)) {
        return fail("bad margin");
      }
      state.push_back(std::move(s));
      ++records;
    } else if (f[0] == "episode") {
      if (state.empty()) return fail("an episode before any series");
      EpisodeRecord e;
      int64_t at_ms = 0;
      if (f.size() != 10 || !ToInt(f[1], e.start_ms) || !ToInt(f[2], e.end_ms) ||
          !ToDouble(f[3], e.peak_score) || !ToInt(f[4], e.peak_ms) || !ToDouble(f[5], e.peak_value) ||
          !ToDouble(f[6], e.peak_expected) || !ToInt(f[8], at_ms)) {
        return fail(
            "an episode line needs START END PEAK_SCORE PEAK_MS PEAK_VALUE PEAK_EXPECTED VERDICT MS COMMENT");
      }
      if (f[7] != "-") {
        const std::optional<http::FeedbackVerdict> verdict = http::ParseFeedbackVerdict(f[7]);
        Result<std::string> comment = Unescape(f[9]);
        if (!verdict || !comment) return fail("bad feedback");
        e.feedback = http::EpisodeFeedback{*verdict, std::move(*comment), at_ms};
      }
      state.back().episodes.push_back(std::move(e));
      ++records;
    } else if (f[0] == "end") {
      int64_t n = 0;
      if (f.size() != 2 || !ToInt(f[1], n) || n != static_cast<int64_t>(records)) {
        return fail("the end line does not count the " + std::to_string(records) + " records read");
      }
      ended = true;
    } else {
      return fail("unknown record \"" + std::string(f[0]) + "\"");
    }
  }
  if (!ended) return fail("no end line (truncated)");
  return state;
}

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return MakeError(ErrorCode::kInternal, "open " + tmp + ": " + SystemError());
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string err = "write " + tmp + ": " + SystemError();
      ::close(fd);
      ::unlink(tmp.c_str());
      return MakeError(ErrorCode::kInternal, err);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string err = "fsync " + tmp + ": " + SystemError();
    ::close(fd);
    ::unlink(tmp.c_str());
    return MakeError(ErrorCode::kInternal, err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = "rename " + tmp + " to " + path + ": " + SystemError();
    ::unlink(tmp.c_str());
    return MakeError(ErrorCode::kInternal, err);
  }
  // The rename is durable once the folder is.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

std::vector<StoredSeries> LoadStateOrMoveAside(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open() && errno == ENOENT) return {};
  std::string why;
  std::vector<StoredSeries> state;
  if (!in.is_open()) {
    why = "cannot open: " + SystemError();
  } else {
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
      why = "cannot read";
    } else {
      Result<std::vector<StoredSeries>> decoded = DecodeState(text.str());
      if (decoded) return std::move(*decoded);
      why = decoded.error().message;
    }
  }
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::string aside = path + ".corrupt-" + std::to_string(now_s);
  const bool moved = ::rename(path.c_str(), aside.c_str()) == 0;
  log::Error("state file unusable; starting without its episodes and feedback",
             {{"path", path}, {"err", why}, {"moved_to", moved ? aside : "not moved: " + SystemError()}});
  return {};
}

}  // namespace anomaly::app
