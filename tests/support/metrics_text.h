// Parses Prometheus text exposition (what /metrics serves) into samples, so tests can look up a series by
// name and labels. Test-only: tolerant of # lines, strict about the sample lines it reads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anomaly::testing {

struct TextSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<TextSample> ParseMetricsText(std::string_view text);

// Samples named `name` whose labels include every pair of `match`.
std::vector<TextSample> FindSamples(const std::vector<TextSample>& samples, std::string_view name,
                                    const std::map<std::string, std::string>& match = {});

// The value of the one sample matching, or nullopt when none or several match.
std::optional<double> SampleValue(const std::vector<TextSample>& samples, std::string_view name,
                                  const std::map<std::string, std::string>& match = {});

}  // namespace anomaly::testing
