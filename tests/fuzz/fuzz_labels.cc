// The label helpers (include/anomaly/base/labels.h) over label sets as they arrive from outside: names
// and values are whatever Prometheus' answers carry. The input is split at NUL bytes into name, value,
// name, value, ... Checks the header's contracts:
//   - MakeLabels sorts by name, whatever the order given, and HashLabels of the result does not depend
//     on that order (a series keeps its shard);
//   - LabelValue finds every label and returns an empty view for a name that is absent;
//   - LabelsToString escapes values so that the text reads back to the same set (checked for names that
//     are valid Prometheus label names, the only ones it can print unambiguously).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "anomaly/base/labels.h"
#include "fuzz_check.h"

namespace {

using anomaly::Label;
using anomaly::Labels;

bool IsLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Reads LabelsToString's output back: {n="v", n="v"} with \" \\ \n escapes. False if malformed.
bool ReadLabelsText(std::string_view text, Labels* out) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return false;
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    const size_t eq = text.find("=\"");
    if (eq == std::string_view::npos) return false;
    Label label{std::string(text.substr(0, eq)), ""};
    size_t i = eq + 2;
    for (;; ++i) {
      if (i >= text.size()) return false;
      if (text[i] == '"') break;
      if (text[i] == '\\') {
        if (++i >= text.size()) return false;
        if (text[i] == 'n') {
          label.value += '\n';
        } else if (text[i] == '"' || text[i] == '\\') {
          label.value += text[i];
        } else {
          return false;
        }
      } else if (text[i] == '\n') {
        return false;  // a raw newline would break a log line
      } else {
        label.value += text[i];
      }
    }
    out->push_back(std::move(label));
    text.remove_prefix(i + 1);
    if (text.empty()) break;
    if (!text.starts_with(", ")) return false;
    text.remove_prefix(2);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const size_t nul = rest.find('\0');
    parts.emplace_back(rest.substr(0, nul));
    rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  }
  // Label sets have unique names (the decoder guarantees it): keep the first of each.
  std::vector<Label> given;
  std::set<std::string> names;
  for (size_t i = 0; i < parts.size(); i += 2) {
    Label label{parts[i], i + 1 < parts.size() ? parts[i + 1] : ""};
    if (names.insert(label.name).second) given.push_back(std::move(label));
  }

  const Labels labels = anomaly::MakeLabels(given);
  FUZZ_CHECK(labels.size() == given.size(), "MakeLabels changed the size");
  FUZZ_CHECK(std::is_sorted(labels.begin(), labels.end(),
                            [](const Label& a, const Label& b) { return a.name < b.name; }),
             anomaly::LabelsToString(labels));
  std::vector<Label> reversed(given.rbegin(), given.rend());
  const Labels labels_again = anomaly::MakeLabels(std::move(reversed));
  FUZZ_CHECK(labels_again == labels, "MakeLabels depends on the input order");
  FUZZ_CHECK(anomaly::HashLabels(labels_again) == anomaly::HashLabels(labels), "HashLabels not stable");

  for (const Label& label : given) {
    FUZZ_CHECK(anomaly::LabelValue(labels, label.name) == label.value, "LabelValue misses " + label.name);
  }
  std::string absent = "absent";
  while (names.count(absent) != 0) absent += '_';
  FUZZ_CHECK(anomaly::LabelValue(labels, absent).empty(), "LabelValue found an absent name");

  const std::string text = anomaly::LabelsToString(labels);
  if (std::all_of(labels.begin(), labels.end(), [](const Label& l) { return IsLabelName(l.name); })) {
    Labels read;
    FUZZ_CHECK(ReadLabelsText(text, &read), text);
    FUZZ_CHECK(read == labels, text);
  }
  return 0;
}
