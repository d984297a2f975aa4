// A series' identity: its label set, kept sorted by name so that equal sets compare and hash equal.
// Plain values, no third-party types; every stage that names a series uses this.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace anomaly {

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};

// Sorted by name, names unique. Build with MakeLabels() to get that order.
using Labels = std::vector<Label>;

Labels MakeLabels(std::vector<Label> unsorted);

// {a="1", b="x\"y"}: Prometheus text form, for logs and messages.
std::string LabelsToString(const Labels& labels);

// Stable across processes, platforms and releases (FNV-1a 64 over name\xff value\xff ...), so a series
// keeps its shard across restarts.
uint64_t HashLabels(const Labels& labels);

// Returns the value of `name`, or an empty view when absent.
std::string_view LabelValue(const Labels& labels, std::string_view name);

}  // namespace anomaly
