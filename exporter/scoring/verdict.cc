#include "anomaly/scoring/verdict.h"

namespace anomaly::scoring {

std::string_view SeriesStateName(SeriesState state) {
  switch (state) {
    case SeriesState::kOk:
      return "ok";
    case SeriesState::kWarmingUp:
      return "warming_up";
    case SeriesState::kInsufficientData:
      return "insufficient_data";
    case SeriesState::kGap:
      return "gap";
    case SeriesState::kStale:
      return "stale";
    case SeriesState::kMaintenance:
      return "maintenance";
    case SeriesState::kInsufficientPeers:
      return "insufficient_peers";
  }
  return "unknown";
}

std::string_view ModelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kStl:
      return "stl";
    case ModelKind::kMstl:
      return "mstl";
    case ModelKind::kBaseline:
      return "baseline";
  }
  return "unknown";
}

}  // namespace anomaly::scoring
