// The tier limiter shared across reloads: requests go to the policy in force, and replacing it
// hands every count over — to a new instance, through a reload without rate limiting, and never
// to a policy that cannot take them without saying so.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/pipeline/ratelimit_slot.hpp"

namespace portico::pipeline {
namespace {

using Clock = std::chrono::system_clock;

// Counts requests per key without forgetting; exports them as hits at one instant.
class CountingPolicy final : public RateLimitPolicy {
 public:
  RateLimitDecision acquire(std::string_view key, const RateLimitQuota& quota,
                            Clock::time_point) override {
    std::lock_guard lock(mutex_);
    auto& used = counts_[std::string(key)];
    RateLimitDecision decision;
    decision.limit = quota.limit;
    decision.allowed = used < quota.limit;
    if (decision.allowed) ++used;
    decision.remaining = quota.limit - used;
    return decision;
  }
  void refund(std::string_view key, const RateLimitQuota&, Clock::time_point) override {
    std::lock_guard lock(mutex_);
    --counts_[std::string(key)];
  }
  std::vector<RateLimitUsage> export_usage(Clock::time_point now) const override {
    std::lock_guard lock(mutex_);
    std::vector<RateLimitUsage> usage;
    for (const auto& [key, count] : counts_) {
      usage.push_back({key, quota(), {{now, count}}});
    }
    return usage;
  }
  void import_usage(const std::vector<RateLimitUsage>& usage, Clock::time_point) override {
    std::lock_guard lock(mutex_);
    for (const auto& entry : usage) {
      for (const auto& hits : entry.hits) counts_[entry.key] += hits.count;
    }
  }
  std::int64_t count(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second;
  }
  static RateLimitQuota quota() { return {"basic", 100, std::chrono::minutes(1), 0}; }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::int64_t> counts_;
};

RateLimiterSlot::Candidate speaking(std::shared_ptr<CountingPolicy> policy) {
  return {std::move(policy), true};
}

TEST(RateLimiterSlot, ForwardsToThePolicyInForce) {
  RateLimiterSlot slot;
  auto policy = std::make_shared<CountingPolicy>();
  slot.replace(speaking(policy), Clock::now());
  for (int i = 0; i < 3; ++i) slot.acquire("p1", CountingPolicy::quota(), Clock::now());
  slot.refund("p1", CountingPolicy::quota(), Clock::now());
  EXPECT_EQ(policy->count("p1"), 2);
  EXPECT_EQ(slot.current(), policy);
}

TEST(RateLimiterSlot, ReplacingHandsEveryCountToTheNewPolicy) {
  RateLimiterSlot slot;
  auto first = std::make_shared<CountingPolicy>();
  slot.replace(speaking(first), Clock::now());
  for (int i = 0; i < 7; ++i) slot.acquire("p1", CountingPolicy::quota(), Clock::now());
  slot.acquire("p2", CountingPolicy::quota(), Clock::now());

  auto second = std::make_shared<CountingPolicy>();
  auto handover = slot.replace(speaking(second), Clock::now());
  EXPECT_TRUE(handover.replaced);
  EXPECT_EQ(handover.keys_carried, 2u);
  EXPECT_TRUE(handover.warning.empty());
  EXPECT_EQ(second->count("p1"), 7);
  EXPECT_EQ(second->count("p2"), 1);
  auto decision = slot.acquire("p1", CountingPolicy::quota(), Clock::now());
  EXPECT_EQ(decision.remaining, 100 - 8) << "the eighth request, not the first of a fresh quota";
}

TEST(RateLimiterSlot, ReplacingWithTheSamePolicyChangesNothing) {
  RateLimiterSlot slot;
  auto policy = std::make_shared<CountingPolicy>();
  slot.replace(speaking(policy), Clock::now());
  slot.acquire("p1", CountingPolicy::quota(), Clock::now());
  auto handover = slot.replace(speaking(policy), Clock::now());
  EXPECT_FALSE(handover.replaced);
  EXPECT_EQ(policy->count("p1"), 1) << "not imported into itself a second time";
}

TEST(RateLimiterSlot, CountsAreParkedWhileNoPolicyIsConfigured) {
  RateLimiterSlot slot;
  auto first = std::make_shared<CountingPolicy>();
  slot.replace(speaking(first), Clock::now());
  for (int i = 0; i < 4; ++i) slot.acquire("p1", CountingPolicy::quota(), Clock::now());

  slot.replace({}, Clock::now());
  EXPECT_EQ(slot.current(), nullptr);
  auto open = slot.acquire("p1", CountingPolicy::quota(), Clock::now());
  EXPECT_TRUE(open.allowed) << "a request from an older snapshot passes unlimited";

  auto later = std::make_shared<CountingPolicy>();
  slot.replace(speaking(later), Clock::now());
  EXPECT_EQ(later->count("p1"), 4);
}

TEST(RateLimiterSlot, APolicyWithoutHandoffIsReplacedWithAWarning) {
  RateLimiterSlot slot;
  auto old_api = std::make_shared<CountingPolicy>();
  slot.replace({old_api, false}, Clock::now());
  slot.acquire("p1", CountingPolicy::quota(), Clock::now());
  auto next = std::make_shared<CountingPolicy>();
  auto handover = slot.replace(speaking(next), Clock::now());
  EXPECT_TRUE(handover.replaced);
  EXPECT_NE(handover.warning.find("predates plugin API 1.2"), std::string::npos);
  EXPECT_EQ(next->count("p1"), 0);
}

TEST(RateLimiterSlot, NoRequestIsLostOrCountedTwiceWhileReplacing) {
  RateLimiterSlot slot;
  slot.replace(speaking(std::make_shared<CountingPolicy>()), Clock::now());
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> sent{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      RateLimitQuota quota{"big", 1'000'000'000, std::chrono::minutes(1), 0};
      while (!stop.load()) {
        slot.acquire("p1", quota, Clock::now());
        sent.fetch_add(1);
      }
    });
  }
  std::shared_ptr<CountingPolicy> last;
  for (int i = 0; i < 50; ++i) {
    last = std::make_shared<CountingPolicy>();
    slot.replace(speaking(last), Clock::now());
  }
  stop = true;
  for (auto& client : clients) client.join();
  EXPECT_EQ(last->count("p1"), sent.load());
}

}  // namespace
}  // namespace portico::pipeline
