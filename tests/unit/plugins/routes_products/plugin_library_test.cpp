// The built library build/plugins/routes_products.so as the host sees it: descriptor, metadata,
// schema defaults, the migration that creates its tables, and init() refusing to start without
// the database it owns tables in.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "portico/plugin.hpp"
#include "portico/sdk/testing.hpp"
#include "tests/unit/plugins/built_plugin.hpp"

namespace portico {
namespace {

class RoutesProductsLibrary : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library.loaded()) << library.error();
    descriptor = library.descriptor();
    ASSERT_NE(descriptor, nullptr);
    plugin = library.create();
    ASSERT_NE(plugin, nullptr);
  }
  void TearDown() override { plugin.reset(); }  // before the code it runs goes away

  test::BuiltPlugin library{"routes_products.so"};
  const portico_plugin_abi* descriptor = nullptr;
  std::unique_ptr<Plugin> plugin;
};

TEST_F(RoutesProductsLibrary, DescribesItselfAsARoutesPluginWithItsSchema) {
  EXPECT_STREQ(descriptor->name, "routes_products");
  EXPECT_STREQ(descriptor->build_signature, kBuildSignature);
  auto info = plugin->info();
  EXPECT_EQ(info.name, "routes_products");
  EXPECT_EQ(info.version, descriptor->version);
  EXPECT_EQ(info.kinds, std::vector<PluginKind>{PluginKind::routes});
  ASSERT_EQ(info.schema.fields.size(), 2u);
  EXPECT_EQ(info.schema.fields[0].key, "cache_entries");
  EXPECT_EQ(info.schema.fields[0].default_value, 100000);
  EXPECT_EQ(info.schema.fields[0].min, 64);
  EXPECT_EQ(info.schema.fields[1].key, "max_import_items");
  EXPECT_EQ(info.schema.fields[1].default_value, 10000);
}

TEST_F(RoutesProductsLibrary, OwnsItsTablesThroughOneMigration) {
  auto migrations = plugin->migrations();
  ASSERT_EQ(migrations.size(), 1u);
  EXPECT_EQ(migrations[0].version, 1);
  for (const char* table :
       {"CREATE TABLE products", "CREATE TABLE warehouses", "CREATE TABLE stock",
        "CREATE TRIGGER stock_update_bumps_version", "CREATE TABLE products_secrets"}) {
    EXPECT_NE(migrations[0].sql.find(table), std::string::npos) << table;
  }
}

TEST_F(RoutesProductsLibrary, InitNeedsTheDatabase) {
  sdk::testing::FakeHost host("routes_products",
                              {{"cache_entries", 100000}, {"max_import_items", 10000}});
  EXPECT_THROW(plugin->init(host), DatabaseError);
  EXPECT_EQ(plugin->routes(), nullptr);
}

}  // namespace
}  // namespace portico
