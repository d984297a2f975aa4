#include "exporter/http/score_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <optional>

namespace anomaly::http {
namespace {

TEST(ScorePoolTest, RefusesASlotBeyondItsThreadsInsteadOfQueueing) {
  ScorePool pool(2);
  std::optional<ScorePool::Slot> a = pool.TryAcquire();
  std::optional<ScorePool::Slot> b = pool.TryAcquire();
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(pool.TryAcquire().has_value());
  EXPECT_EQ(pool.claimed(), 2);
  a.reset();  // an unused slot, given back
  EXPECT_EQ(pool.claimed(), 1);
  EXPECT_TRUE(pool.TryAcquire().has_value());
}

TEST(ScorePoolTest, ASlotIsFreedWhenItsTaskReturnsNotBefore) {
  ScorePool pool(1);
  std::optional<ScorePool::Slot> slot = pool.TryAcquire();
  ASSERT_TRUE(slot.has_value());
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  std::promise<int> claimed_then;
  pool.Run(std::move(*slot), [&started, released, &pool, &claimed_then]() -> std::function<void()> {
    started.set_value();
    released.wait();
    return [&pool, &claimed_then] { claimed_then.set_value(pool.claimed()); };
  });
  slot.reset();  // moved from: must not free the slot the task holds
  EXPECT_EQ(pool.claimed(), 1);
  started.get_future().wait();
  EXPECT_FALSE(pool.TryAcquire().has_value());
  release.set_value();
  EXPECT_EQ(claimed_then.get_future().get(), 0) << "what a task returns runs once its slot is free";
  EXPECT_TRUE(pool.TryAcquire().has_value());
}

TEST(ScorePoolTest, RunsEveryTaskHandedOverBeforeItIsDestroyed) {
  std::atomic<int> ran = 0;
  {
    ScorePool pool(2);
    for (int i = 0; i < 2; ++i) {
      std::optional<ScorePool::Slot> slot = pool.TryAcquire();
      ASSERT_TRUE(slot.has_value());
      pool.Run(std::move(*slot), [&ran] {
        ++ran;
        return std::function<void()>();
      });
    }
  }
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace anomaly::http
