// A parallel for-loop over a shared set of helper threads. The detector core fits and scores its series
// with it (series::Detector::Evaluate), so that one detector's first cycle or refit round uses every
// configured thread instead of one. The calling thread always works on its own loop too, so a loop
// started from inside another pool's task (a detector's cycle) makes progress even when every helper is
// busy with another detector's loop: no loop ever waits for a thread that waits for it.
// Thread-safe: several threads may run loops at once; they share the helpers.
//
//   ParallelPool pool(3);                          // three helpers: loops run on up to four threads
//   std::vector<Scratch> scratch(pool.max_workers());
//   pool.For(items.size(), [&](size_t i, size_t worker) { Work(items[i], scratch[worker]); });
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace anomaly {

class ParallelPool {
 public:
  // `helpers` threads besides the callers (0: every loop runs on its caller alone).
  explicit ParallelPool(size_t helpers);
  ~ParallelPool();  // joins the helpers; REQUIRES: no loop running
  ParallelPool(const ParallelPool&) = delete;
  ParallelPool& operator=(const ParallelPool&) = delete;

  // The most threads one loop runs on: the caller and every helper.
  size_t max_workers() const { return helpers_.size() + 1; }

  // Calls fn(i, worker) once for each i in [0, n), on the calling thread and on whichever helpers are
  // free, and returns when every call has returned. `worker` is in [0, max_workers()) and no two calls of
  // this loop that run at the same time share it, so scratch memory indexed by it is never shared within
  // the loop. The order of the calls is unspecified. If calls throw, the rest still run and the first
  // exception is rethrown here.
  void For(size_t n, const std::function<void(size_t i, size_t worker)>& fn);

 private:
  struct Loop;
  void HelperLoop();
  static void Work(Loop& loop, size_t worker);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Loop>> loops_;  // guarded by mu_: loops that may still have unclaimed items
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> helpers_;         // constant after construction
};

}  // namespace anomaly
