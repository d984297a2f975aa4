// The threads POST /api/v1/score runs its work on (http::ScoreOptions::concurrency of them), away from
// civetweb's workers that serve /metrics. It never queues: a request takes a slot before its body is read
// and is refused (429) when every slot is out, so a burst of score requests costs the daemon at most
// `concurrency` busy threads and bodies in memory. Thread-safe.
//
//   std::optional<ScorePool::Slot> slot = pool.TryAcquire();
//   if (!slot) return TooManyRequests();
//   pool.Run(std::move(*slot), [] { Work(); return [] { Reply(); }; });  // Reply once the slot is free
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace anomaly::http {

class ScorePool {
 public:
  // A claim on one of the pool's threads. Move-only; destroyed unused, it frees the slot.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : pool_(other.pool_) { other.pool_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (pool_ != nullptr) pool_->Release();
    }

   private:
    friend class ScorePool;
    explicit Slot(ScorePool* pool) : pool_(pool) {}
    ScorePool* pool_;  // null once used or moved from
  };

  // REQUIRES: threads >= 1.
  explicit ScorePool(int threads);
  // Runs the tasks already handed over to their end (each bounded by its request's deadline), then joins.
  // REQUIRES: no Slot outstanding.
  ~ScorePool();
  ScorePool(const ScorePool&) = delete;
  ScorePool& operator=(const ScorePool&) = delete;

  // A slot, or nullopt when all `threads` are claimed (running a task or about to). Never blocks.
  std::optional<Slot> TryAcquire();
  // Runs `task` on a pool thread at once (the slot guarantees one is free). The slot is freed when the task
  // returns, and only then is the function it returned called: a task hands its result to its client
  // there, so that the client's next request finds the slot free. Neither may throw.
  using Task = std::function<std::function<void()>()>;
  void Run(Slot slot, Task task);

  int claimed() const;  // slots out now, for tests

 private:
  void Release();
  void WorkerLoop();

  const int threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int claimed_ = 0;                               // guarded by mu_
  std::deque<Task> tasks_;                        // guarded by mu_; at most claimed_ long
  bool stopping_ = false;                         // guarded by mu_
  std::vector<std::thread> workers_;              // constant after construction
};

}  // namespace anomaly::http
