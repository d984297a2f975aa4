#include "anomaly/base/parallel.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace anomaly {
namespace {

TEST(ParallelPoolTest, CallsEveryItemOnceWithWorkersInRange) {
  ParallelPool pool(3);
  ASSERT_EQ(pool.max_workers(), 4u);
  std::vector<std::atomic<int>> calls(10'000);
  std::atomic<bool> bad_worker{false};
  pool.For(calls.size(), [&](size_t i, size_t worker) {
    if (worker >= pool.max_workers()) bad_worker = true;
    calls[i].fetch_add(1);
  });
  EXPECT_FALSE(bad_worker);
  for (size_t i = 0; i < calls.size(); ++i) ASSERT_EQ(calls[i].load(), 1) << "item " << i;
}

TEST(ParallelPoolTest, NoTwoCallsRunningAtOnceShareAWorker) {
  ParallelPool pool(3);
  std::vector<std::atomic<int>> busy(pool.max_workers());
  std::atomic<int> shared{0};
  std::atomic<int> peak{0};
  std::atomic<int> running{0};
  pool.For(400, [&](size_t, size_t worker) {
    if (busy[worker].fetch_add(1) != 0) shared.fetch_add(1);
    const int now = running.fetch_add(1) + 1;
    for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    running.fetch_sub(1);
    busy[worker].fetch_sub(1);
  });
  EXPECT_EQ(shared.load(), 0);
  // The helpers did work beside the caller (the items sleep, so even a busy machine overlaps them).
  EXPECT_GT(peak.load(), 1);
}

TEST(ParallelPoolTest, WithoutHelpersTheCallerDoesEverything) {
  ParallelPool pool(0);
  EXPECT_EQ(pool.max_workers(), 1u);
  const std::thread::id caller = std::this_thread::get_id();
  int calls = 0;
  pool.For(50, [&](size_t, size_t worker) {
    EXPECT_EQ(worker, 0u);
    EXPECT_EQ(std::this_thread::get_id(), caller);
    ++calls;
  });
  EXPECT_EQ(calls, 50);
  pool.For(0, [&](size_t, size_t) { ++calls; });
  EXPECT_EQ(calls, 50);
}

TEST(ParallelPoolTest, LoopsFromSeveralThreadsShareTheHelpers) {
  ParallelPool pool(2);
  constexpr int kCallers = 4;
  std::vector<std::atomic<long>> sums(kCallers);
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 20; ++round) {
        pool.For(500, [&](size_t i, size_t) { sums[c].fetch_add(static_cast<long>(i)); });
      }
    });
  }
  for (std::thread& t : callers) t.join();
  for (int c = 0; c < kCallers; ++c) EXPECT_EQ(sums[c].load(), 20L * (499L * 500L / 2)) << "caller " << c;
}

TEST(ParallelPoolTest, ALoopInsideAnotherLoopFinishes) {
  ParallelPool pool(2);
  std::atomic<int> inner{0};
  pool.For(8, [&](size_t, size_t) { pool.For(8, [&](size_t, size_t) { inner.fetch_add(1); }); });
  EXPECT_EQ(inner.load(), 64);
}

TEST(ParallelPoolTest, TheFirstExceptionIsRethrownAfterEveryItemRan) {
  ParallelPool pool(3);
  std::atomic<int> calls{0};
  EXPECT_THROW(pool.For(100,
                        [&](size_t i, size_t) {
                          calls.fetch_add(1);
                          if (i % 10 == 3) throw std::runtime_error("item failed");
                        }),
               std::runtime_error);
  EXPECT_EQ(calls.load(), 100);
  // The pool still works.
  std::atomic<int> after{0};
  pool.For(10, [&](size_t, size_t) { after.fetch_add(1); });
  EXPECT_EQ(after.load(), 10);
}

}  // namespace
}  // namespace anomaly
