// The built library build/plugins/auth_api_key.so as the host sees it: descriptor, metadata,
// schema default, and init() wiring the configured header.
#include <gtest/gtest.h>

#include <memory>

#include "portico/plugin.hpp"
#include "portico/sdk/testing.hpp"
#include "tests/unit/plugins/built_plugin.hpp"

namespace portico {
namespace {

class AuthApiKeyLibrary : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library.loaded()) << library.error();
    descriptor = library.descriptor();
    ASSERT_NE(descriptor, nullptr);
    plugin = library.create();
    ASSERT_NE(plugin, nullptr);
  }
  void TearDown() override { plugin.reset(); }  // before the code it runs goes away

  test::BuiltPlugin library{"auth_api_key.so"};
  const portico_plugin_abi* descriptor = nullptr;
  std::unique_ptr<Plugin> plugin;
};

TEST_F(AuthApiKeyLibrary, DescribesItselfAsAHighPriorityAuthPlugin) {
  EXPECT_EQ(descriptor->api_major, kPluginApiMajor);
  EXPECT_STREQ(descriptor->build_signature, kBuildSignature);
  EXPECT_STREQ(descriptor->name, "auth_api_key");
  auto info = plugin->info();
  EXPECT_EQ(info.name, "auth_api_key");
  EXPECT_EQ(info.version, descriptor->version);
  EXPECT_EQ(info.priority, 1000);
  EXPECT_EQ(info.kinds, std::vector<PluginKind>{PluginKind::auth});
  ASSERT_EQ(info.schema.fields.size(), 1u);
  EXPECT_EQ(info.schema.fields[0].key, "header");
  EXPECT_EQ(info.schema.fields[0].type, FieldType::string);
  EXPECT_EQ(info.schema.fields[0].default_value, "X-API-Key");
  EXPECT_TRUE(plugin->migrations().empty());
}

TEST_F(AuthApiKeyLibrary, InitUsesTheConfiguredHeader) {
  sdk::testing::FakeHost host("auth_api_key", {{"header", "X-Partner-Key"}});
  ApiKeyRecord record;
  record.key_id = "key_1";
  record.partner_id = "ptr_1";
  record.partner_status = "active";
  record.tier = "basic";
  const std::string key = "pk_test_abcdefghijklmnopqrstuvwxyz012345";
  host.fake_credentials().add(key, record);
  EXPECT_EQ(plugin->auth(), nullptr) << "no scheme before init";
  plugin->init(host);
  ASSERT_NE(plugin->auth(), nullptr);
  Request request;
  request.headers.emplace_back("X-Partner-Key", key);
  auto result = plugin->auth()->authenticate(request);
  ASSERT_EQ(result.outcome, AuthResult::Outcome::authenticated);
  EXPECT_EQ(result.identity->partner_id, "ptr_1");
  EXPECT_EQ(host.fake_credentials().used, std::vector<std::string>{"key_1"});
}

}  // namespace
}  // namespace portico
