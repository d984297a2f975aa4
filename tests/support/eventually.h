// Polls a condition until it holds or a deadline passes: integration tests wait on real processes this
// way, never with fixed sleeps (STYLE.md B8).
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace anomaly::testing {

// True as soon as `check` returns true; false if it still does not at `timeout` (checked once more then).
inline bool Eventually(const std::function<bool()>& check, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return check();
}

}  // namespace anomaly::testing
