// Private to the scoring stage: a thread-safe log-gamma and the series of the regularised lower incomplete
// gamma function, shared by the Poisson tail of counts (scorer.cc) and the gamma tail of the short means
// (likelihood.cc).
#pragma once

#include <math.h>  // lgamma_r

#include <cmath>

namespace anomaly::scoring {

// ln |Gamma(x)|, thread-safe: std::lgamma also writes the sign to the global `signgam` (glibc), a data
// race between the fits that run in parallel (ThreadSanitizer reported it); lgamma_r returns it instead.
inline double LogGamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

// ln S(a, x), S = sum_{n >= 0} x^n / ((a + 1) (a + 2) ... (a + n)), so that the regularised lower
// incomplete gamma is P(a, x) = x^a e^-x / Gamma(a + 1) * S. The terms shrink once n > x - a, fast for
// x < a + 1, where callers use it. REQUIRES a > 0, x >= 0.
inline double LogLowerGammaSeries(double a, double x) {
  double term = 1, sum = 1;
  for (int n = 1; n < 2000 && term > 1e-15 * sum; ++n) {
    term *= x / (a + n);
    sum += term;
  }
  return std::log(sum);
}

}  // namespace anomaly::scoring
