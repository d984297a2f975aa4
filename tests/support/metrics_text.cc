#include "support/metrics_text.h"

#include <cstdlib>

namespace anomaly::testing {

std::vector<TextSample> ParseMetricsText(std::string_view text) {
  std::vector<TextSample> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    TextSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string_view::npos) break;
        std::string name(line.substr(i, eq - i));
        i = eq + 2;  // skip ="
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
          ++i;
        }
        ++i;  // closing quote
        if (i < line.size() && line[i] == ',') ++i;
        s.labels[name] = value;
      }
      ++i;  // closing brace
    }
    while (i < line.size() && line[i] == ' ') ++i;
    std::string number(line.substr(i, line.find(' ', i) == std::string_view::npos ? std::string_view::npos
                                                                                      : line.find(' ', i) - i));
    s.value = std::strtod(number.c_str(), nullptr);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<TextSample> FindSamples(const std::vector<TextSample>& samples, std::string_view name,
                                    const std::map<std::string, std::string>& match) {
  std::vector<TextSample> out;
  for (const TextSample& s : samples) {
    if (s.name != name) continue;
    bool ok = true;
    for (const auto& [k, v] : match) {
      auto it = s.labels.find(k);
      ok = ok && it != s.labels.end() && it->second == v;
    }
    if (ok) out.push_back(s);
  }
  return out;
}

std::optional<double> SampleValue(const std::vector<TextSample>& samples, std::string_view name,
                                  const std::map<std::string, std::string>& match) {
  std::vector<TextSample> found = FindSamples(samples, name, match);
  if (found.size() != 1) return std::nullopt;
  return found[0].value;
}

}  // namespace anomaly::testing
