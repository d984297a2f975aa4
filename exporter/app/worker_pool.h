// A fixed set of worker threads running submitted tasks in FIFO order. The daemon runs each detector's
// cycle as one task, so a slow detector occupies one worker and never stalls the others.
// Thread-safe. The destructor stops accepting work, drops queued tasks and joins the workers; a running
// task is not interrupted (tasks check their own stop token).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace anomaly::app {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. Returns false once shutdown has begun. A task that throws is logged and dropped; it
  // never takes a worker down.
  bool Submit(std::function<void()> task);

  size_t size() const { return workers_.size(); }

 private:
  void WorkerLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> workers_;         // constant after construction
};

}  // namespace anomaly::app
