#include "exporter/app/worker_pool.h"

#include <exception>

#include "anomaly/base/log.h"

namespace anomaly::app {

WorkerPool::WorkerPool(size_t threads) {
  if (threads == 0) threads = 1;
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

bool WorkerPool::Submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    // Last-resort catch for a thread entry (STYLE.md B4): log, keep the worker alive.
    try {
      task();
    } catch (const std::exception& e) {
      log::Error("task failed with an exception", {{"err", e.what()}});
    } catch (...) {
      log::Error("task failed with an unknown exception");
    }
  }
}

}  // namespace anomaly::app
