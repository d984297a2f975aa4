// Peer scoring of a group of series that should behave alike (the pods of one service): at each time,
// each member's deviation from the group's robust centre, in the group's robust spread at that time, and
// that deviation standardised by the member's own past deviations, so that a member that always sits a
// little above its peers is not an outlier and a shift the whole group shares is no deviation at all.
// The series stage (series/peers.h) feeds the standardised value to the univariate calibrator and episode
// (likelihood.h). Pure and thread-compatible.
//
//   PeerSlot s = PeerDeviations(values_at_slot, params, deviations, scratch);  // NaN = no sample
//   OwnBaseline b = FitOwnBaseline(member_past_deviations, params, scratch);
//   double z = PeerZ(deviations[i], b);                                      // judged like a forecast z
#pragma once

#include <span>
#include <vector>

namespace anomaly::scoring {

struct PeerParams {
  // The group's spread at a slot is at least min_spread_ratio * |centre| and min_spread (both > 0, in the
  // query's unit for the latter): identical members (spread 0) must not make a rounding error an outlier.
  // 0.1% of the level: a member of identical peers is one spread off at 0.1% away from them; more would
  // make the spread follow the level where the members spread less than that (a daily swing of a
  // member's deviation that is its offset, not its behaviour).
  double min_spread_ratio = 0.001;
  double min_spread = 1e-9;
  // A member's own scale (of its past deviations, in group spreads) is at least this (> 0). A member that
  // always sat at the same place among its peers (a constant offset, no noise of its own) is judged as if
  // its deviations spread half a group spread: a move of 1.5 group spreads reaches the default floor z 3.
  double min_own_scale = 0.5;
  // Slots whose spreads are pooled into the one a slot's deviations are measured in (>= 1; the series
  // stage keeps them): the MAD of a few members at one slot varies by 2x from slot to slot (8 members),
  // and a slot where most happen to agree would make every other member an outlier. 12 slots follow a
  // daily swing of the spread with a lag of 6 steps.
  int spread_window = 12;
};

// Empty when valid, else the field and the rule.
const char* CheckPeerParams(const PeerParams& params);

struct PeerSlot {
  double center = 0;  // median of the members present
  double spread = 0;  // kMadToSigma * MAD of the members present, floored (PeerParams)
  int present = 0;    // members with a finite value
};

// The centre and spread of one slot. Members without a sample (not finite) do not enter them. With no
// member present, centre and spread are NaN.
PeerSlot PeerCentre(std::span<const double> values, const PeerParams& params, std::vector<double>& scratch);

// The spread to measure a slot's deviations in: the median of the recent slots' spreads (NaNs skipped;
// `recent`, not empty, ends with this slot's) or this slot's, whichever is larger, floored as PeerCentre
// floors; NaN when none is finite. Larger: a spread that grows at once (a surge every member takes
// scales their noise too) is taken at once, while a slot where most members happen to agree does not
// shrink it.
double PooledSpread(std::span<const double> recent, double center, const PeerParams& params,
                    std::vector<double>& scratch);

// (value - centre) / spread of every member into `deviation` (same size as `values`; NaN where the value
// is not finite, or the centre or spread is NaN).
void PeerDeviations(std::span<const double> values, double center, double spread,
                    std::span<double> deviation);

// PeerCentre and PeerDeviations of one slot alone (its own spread, not pooled).
PeerSlot PeerDeviations(std::span<const double> values, const PeerParams& params, std::span<double> deviation,
                        std::vector<double>& scratch);

// Where a member usually sits among its peers: the median of its past deviations and their scaled MAD
// (floored at min_own_scale). NaNs are skipped; with none left, location 0 and scale 1 (a member without
// a past is judged by its raw deviation).
struct OwnBaseline {
  double location = 0;
  double scale = 1;
  int count = 0;  // past deviations it was made from
};
OwnBaseline FitOwnBaseline(std::span<const double> past, const PeerParams& params,
                           std::vector<double>& scratch);

// (deviation - location) / scale; NaN for a NaN deviation.
double PeerZ(double deviation, const OwnBaseline& baseline);

}  // namespace anomaly::scoring
