#include "anomaly/base/parallel.h"

#include <atomic>
#include <exception>

namespace anomaly {

struct ParallelPool::Loop {
  size_t n = 0;
  const std::function<void(size_t, size_t)>* fn = nullptr;
  std::atomic<size_t> next{0};     // the next unclaimed item
  std::atomic<size_t> workers{1};  // worker ids handed out; the caller is 0
  std::mutex mu;
  std::condition_variable cv;
  size_t finished = 0;             // guarded by mu: items whose call has returned
  std::exception_ptr error;        // guarded by mu: the first exception
};

ParallelPool::ParallelPool(size_t helpers) {
  helpers_.reserve(helpers);
  for (size_t i = 0; i < helpers; ++i) helpers_.emplace_back([this] { HelperLoop(); });
}

ParallelPool::~ParallelPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : helpers_) t.join();
}

void ParallelPool::Work(Loop& loop, size_t worker) {
  size_t done = 0;
  std::exception_ptr error;
  for (size_t i = loop.next.fetch_add(1); i < loop.n; i = loop.next.fetch_add(1)) {
    try {
      (*loop.fn)(i, worker);
    } catch (...) {
      if (!error) error = std::current_exception();
    }
    ++done;
  }
  if (done == 0) return;
  std::lock_guard<std::mutex> lock(loop.mu);
  loop.finished += done;
  if (error && !loop.error) loop.error = error;
  if (loop.finished == loop.n) loop.cv.notify_all();
}

void ParallelPool::For(size_t n, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  auto loop = std::make_shared<Loop>();
  loop->n = n;
  loop->fn = &fn;
  if (n > 1 && !helpers_.empty()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      loops_.push_back(loop);
    }
    if (n - 1 >= helpers_.size()) {
      cv_.notify_all();
    } else {
      for (size_t k = 0; k < n - 1; ++k) cv_.notify_one();
    }
  }
  Work(*loop, 0);
  // Every item is claimed: take the loop off the queue (a helper may have done so already), then wait for
  // the calls that helpers still run. A helper that claims nothing never touches fn.
  if (n > 1 && !helpers_.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase(loops_, loop);
  }
  std::unique_lock<std::mutex> lock(loop->mu);
  loop->cv.wait(lock, [&] { return loop->finished == loop->n; });
  if (loop->error) std::rethrow_exception(loop->error);
}

void ParallelPool::HelperLoop() {
  for (;;) {
    std::shared_ptr<Loop> loop;
    size_t worker = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !loops_.empty(); });
      if (stopping_) return;
      loop = loops_.front();
      worker = loop->workers.fetch_add(1);
      // The last worker id this loop can hand out, or nothing left to claim: nobody else joins it.
      if (worker + 1 >= max_workers() || loop->next.load() >= loop->n) loops_.pop_front();
    }
    if (worker < max_workers()) Work(*loop, worker);
  }
}

}  // namespace anomaly
