#include "exporter/http/score_pool.h"

#include <utility>

namespace anomaly::http {

ScorePool::ScorePool(int threads) : threads_(threads) {
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ScorePool::~ScorePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

std::optional<ScorePool::Slot> ScorePool::TryAcquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (claimed_ >= threads_) return std::nullopt;
  ++claimed_;
  return Slot(this);
}

void ScorePool::Run(Slot slot, Task task) {
  slot.pool_ = nullptr;  // freed by the worker once the task has run
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

int ScorePool::claimed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return claimed_;
}

void ScorePool::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  --claimed_;
}

void ScorePool::WorkerLoop() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      // Stopping drains the queue first: a task handed over has a client waiting for it.
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    std::function<void()> then = task();
    Release();
    if (then) then();
  }
}

}  // namespace anomaly::http
