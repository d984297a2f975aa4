#include "anomaly/base/labels.h"

#include <algorithm>

namespace anomaly {

Labels MakeLabels(std::vector<Label> unsorted) {
  std::sort(unsorted.begin(), unsorted.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  return unsorted;
}

std::string LabelsToString(const Labels& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    out += labels[i].name;
    out += "=\"";
    for (char c : labels[i].value) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

uint64_t HashLabels(const Labels& labels) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a 64 offset basis
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;  // FNV-1a 64 prime
    }
    h ^= 0xff;  // separator: a byte no valid UTF-8 label text contains
    h *= 1099511628211ULL;
  };
  for (const Label& l : labels) {
    mix(l.name);
    mix(l.value);
  }
  return h;
}

std::string_view LabelValue(const Labels& labels, std::string_view name) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels.end() && it->name == name) return it->value;
  return {};
}

}  // namespace anomaly
