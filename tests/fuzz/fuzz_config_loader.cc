// The YAML config loader (include/anomaly/config/config_loader.h): --config.file, read at start-up and
// on every reload. Relative file paths in the config resolve against the working directory (the
// filename below has no folder), so the readability checks of secret files run as they would.
// Checks the loader's contract:
//   - a refusal is kInvalidConfig, each line "fuzz.yml:<line>: ..." or "fuzz.yml: ...";
//   - an accepted config describes itself, and renders (RenderConfig) to YAML that loads back to an
//     equal Config (the file name and the warnings aside, as in config_render_test.cc).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "anomaly/config/config_loader.h"
#include "fuzz_check.h"

namespace {

constexpr std::string_view kFilename = "fuzz.yml";

anomaly::config::Config WithoutBookkeeping(anomaly::config::Config c) {
  c.source_path.clear();
  c.warnings.clear();
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  anomaly::Result<anomaly::config::Config> config = anomaly::config::LoadConfigFromString(yaml, kFilename);
  if (!config) {
    const std::string& message = config.error().message;
    FUZZ_CHECK(config.error().code == anomaly::ErrorCode::kInvalidConfig, message);
    FUZZ_CHECK(!message.empty(), "an empty error message");
    std::string_view rest = message;
    while (!rest.empty()) {
      const std::string_view line = rest.substr(0, rest.find('\n'));
      FUZZ_CHECK(line.starts_with(std::string(kFilename) + ":"), message);
      rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    }
    return 0;
  }
  const std::string description = anomaly::config::DescribeConfig(*config);
  FUZZ_CHECK(!description.empty() && description.back() == '\n', description);
  const std::string rendered = anomaly::config::RenderConfig(*config);
  anomaly::Result<anomaly::config::Config> reloaded = anomaly::config::LoadConfigFromString(rendered, kFilename);
  FUZZ_CHECK(reloaded.has_value(), "the rendered config does not load: " + reloaded.error().message + "\n" + rendered);
  FUZZ_CHECK(WithoutBookkeeping(*reloaded) == WithoutBookkeeping(*config),
             "the rendered config loads back different:\n" + rendered);
  return 0;
}
