// The built ratelimit_token_bucket.so loads, describes itself, takes its config and limits.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "portico/plugin.hpp"
#include "portico/sdk/testing.hpp"

namespace {

using namespace std::chrono_literals;

// The library stays open for the whole test: plugin objects must die before it closes.
class BuiltPlugin {
 public:
  explicit BuiltPlugin(const std::string& file)
      : handle_(dlopen((std::string(PORTICO_PLUGIN_DIR) + "/" + file).c_str(),
                       RTLD_NOW | RTLD_LOCAL)) {}
  ~BuiltPlugin() {
    if (handle_) dlclose(handle_);
  }
  BuiltPlugin(const BuiltPlugin&) = delete;
  BuiltPlugin& operator=(const BuiltPlugin&) = delete;

  const char* error() const { return handle_ ? "" : dlerror(); }
  std::unique_ptr<portico::Plugin> create() const {
    // The exported symbol is a pointer holding the factory's address (a Boost.DLL alias).
    const void* stored = *static_cast<const void* const*>(dlsym(handle_, "portico_create_plugin"));
    auto* factory =
        reinterpret_cast<portico::PluginFactory*>(reinterpret_cast<std::intptr_t>(stored));
    return factory();
  }

 private:
  void* handle_;
};

TEST(TokenBucketPlugin, LoadsAndDescribesItself) {
  BuiltPlugin library("ratelimit_token_bucket.so");
  ASSERT_STREQ(library.error(), "");
  std::unique_ptr<portico::Plugin> plugin = library.create();
  const portico::PluginInfo info = plugin->info();
  EXPECT_EQ(info.name, "ratelimit_token_bucket");
  EXPECT_EQ(info.version, "1.0.0");
  EXPECT_EQ(info.priority, 50);
  ASSERT_EQ(info.kinds.size(), 1u);
  EXPECT_EQ(info.kinds[0], portico::PluginKind::ratelimit);
  ASSERT_EQ(info.schema.fields.size(), 2u);
  EXPECT_EQ(info.schema.fields[0].key, "max_keys");
  EXPECT_EQ(info.schema.fields[0].type, portico::FieldType::integer);
  EXPECT_EQ(info.schema.fields[0].default_value, 100'000);
  EXPECT_EQ(info.schema.fields[0].min, 64);
  EXPECT_EQ(info.schema.fields[1].key, "burst");
  EXPECT_EQ(info.schema.fields[1].type, portico::FieldType::integer);
  EXPECT_EQ(info.schema.fields[1].default_value, 0);
  EXPECT_EQ(info.schema.fields[1].min, 0);
}

TEST(TokenBucketPlugin, LimitsAfterInit) {
  BuiltPlugin library("ratelimit_token_bucket.so");
  ASSERT_STREQ(library.error(), "");
  std::unique_ptr<portico::Plugin> plugin = library.create();
  portico::sdk::testing::FakeHost host("ratelimit_token_bucket", {{"max_keys", 640}, {"burst", 5}});
  plugin->init(host);
  portico::RateLimitPolicy* policy = plugin->ratelimit();
  ASSERT_NE(policy, nullptr);
  const portico::RateLimitQuota basic{"basic", 100, 60s, 0};
  // The configured burst of 5 rides on top of the tier's 100.
  for (int i = 0; i < 105; ++i) ASSERT_TRUE(policy->acquire("partner", basic, host.now()).allowed);
  portico::RateLimitDecision refused = policy->acquire("partner", basic, host.now());
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 600ms);
}

}  // namespace
