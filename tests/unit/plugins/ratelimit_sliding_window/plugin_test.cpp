// The built ratelimit_sliding_window.so loads, describes itself, takes its config and limits.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "portico/plugin.hpp"
#include "portico/sdk/testing.hpp"
#include "tests/unit/plugins/built_plugin.hpp"

namespace {

using namespace std::chrono_literals;

using portico::test::BuiltPlugin;

TEST(SlidingWindowPlugin, LoadsAndDescribesItself) {
  BuiltPlugin library("ratelimit_sliding_window.so");
  ASSERT_TRUE(library.loaded()) << library.error();
  std::unique_ptr<portico::Plugin> plugin = library.create();
  const portico::PluginInfo info = plugin->info();
  EXPECT_EQ(info.name, "ratelimit_sliding_window");
  EXPECT_EQ(info.version, "1.1.0");
  EXPECT_EQ(info.priority, 100);
  ASSERT_EQ(info.kinds.size(), 1u);
  EXPECT_EQ(info.kinds[0], portico::PluginKind::ratelimit);
  ASSERT_EQ(info.schema.fields.size(), 1u);
  EXPECT_EQ(info.schema.fields[0].key, "max_keys");
  EXPECT_EQ(info.schema.fields[0].type, portico::FieldType::integer);
  EXPECT_EQ(info.schema.fields[0].default_value, 100'000);
  EXPECT_EQ(info.schema.fields[0].min, 64);
}

TEST(SlidingWindowPlugin, LimitsAfterInit) {
  BuiltPlugin library("ratelimit_sliding_window.so");
  ASSERT_TRUE(library.loaded()) << library.error();
  std::unique_ptr<portico::Plugin> plugin = library.create();
  portico::sdk::testing::FakeHost host("ratelimit_sliding_window", {{"max_keys", 640}});
  plugin->init(host);
  portico::RateLimitPolicy* policy = plugin->ratelimit();
  ASSERT_NE(policy, nullptr);
  const portico::RateLimitQuota basic{"basic", 100, 60s, 0};
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(policy->acquire("partner", basic, host.now()).allowed);
  portico::RateLimitDecision refused = policy->acquire("partner", basic, host.now());
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 60'001ms);
}

// Its counts are in memory: every decision is given now (API 3.2), counted with acquire()'s.
TEST(SlidingWindowPlugin, AnswersNowCountingAsAcquire) {
  BuiltPlugin library("ratelimit_sliding_window.so");
  ASSERT_TRUE(library.loaded()) << library.error();
  std::unique_ptr<portico::Plugin> plugin = library.create();
  portico::sdk::testing::FakeHost host("ratelimit_sliding_window", {{"max_keys", 640}});
  plugin->init(host);
  portico::RateLimitPolicy* policy = plugin->ratelimit();
  const portico::RateLimitQuota basic{"basic", 10, 60s, 0};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(policy->acquire("partner", basic, host.now()).allowed);
  for (int i = 0; i < 5; ++i) {
    auto now = policy->acquire_now("partner", basic, host.now());
    ASSERT_TRUE(now);
    EXPECT_TRUE(now->allowed);
    EXPECT_EQ(now->remaining, 4 - i);
  }
  auto refused = policy->acquire_now("partner", basic, host.now());
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->allowed);
}

}  // namespace
