// Private to the config stage: one `detectors:` entry (or the `defaults:` block) from YAML into a
// DetectorConfig, with every per-key and cross-field rule checked and reported through Diagnostics.
#pragma once

#include "anomaly/config/config.h"
#include "exporter/config/yaml_reader.h"

namespace anomaly::config {

enum class DetectorBlock {
  kDetector,  // a detectors[i] entry read through [its mapping, defaults]: required keys and
              // cross-field rules apply, defaults are filled in
  kDefaults,  // the `defaults:` block alone: only its keys and values are checked
};

// The returned value is meaningful only when `diag` holds no errors afterwards.
DetectorConfig ReadDetector(const MapView& view, DetectorBlock block, Diagnostics& diag);

}  // namespace anomaly::config
