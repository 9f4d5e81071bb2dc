// What the route tests of the built routes_products.so share: a database that answers the
// cursor key's statements itself, refuses writes and transactions (a read must do neither) and
// hands every catalog read to the test, and the plugin loaded on the fake host with it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "portico/plugin.hpp"
#include "portico/sdk/testing.hpp"
#include "tests/unit/plugins/built_plugin.hpp"

namespace routes_products_test {

class CatalogReads : public portico::Database {
 public:
  portico::Rows query(std::string_view sql, const portico::Params& params) final {
    if (sql.find("products_secrets") != std::string_view::npos) {
      auto column = std::make_shared<const std::vector<std::string>>(1, "value");
      return {portico::Row(column, {std::string(64, 'a')})};
    }
    return read(sql, params);
  }
  std::int64_t execute(std::string_view sql, const portico::Params&) final {
    if (sql.find("products_secrets") != std::string_view::npos) return 0;
    throw portico::DatabaseError("a read wrote: " + std::string(sql));
  }
  void execute_script(std::string_view) final {}
  void transaction(const std::function<void(portico::Session&)>&) final {
    throw portico::DatabaseError("a read opened a transaction");
  }
  std::string backend_name() const final { return "sqlite"; }

 protected:
  // Every statement but the cursor key's.
  virtual portico::Rows read(std::string_view sql, const portico::Params& params) = 0;
};

// The built plugin on `db` (a CatalogReads), for a test fixture to derive from.
template <class Db>
class BuiltCatalog {
 protected:
  // In the fixture's SetUp: ASSERT_NO_FATAL_FAILURE(load_catalog()).
  void load_catalog() {
    ASSERT_TRUE(library.loaded()) << library.error();
    plugin = library.create();
    ASSERT_NE(plugin, nullptr);
    host.use_database(db);
    plugin->init(host);
    ASSERT_NE(plugin->routes(), nullptr);
  }
  // The plugin's route `method path`; an empty Route when it has none.
  portico::Route route(std::string_view method, std::string_view path) {
    for (auto& route : plugin->routes()->routes()) {
      if (route.method == method && route.path == path) return route;
    }
    return {};
  }

  portico::test::BuiltPlugin library{"routes_products.so"};
  std::shared_ptr<Db> db = std::make_shared<Db>();
  portico::sdk::testing::FakeHost host{"routes_products",
                                       {{"cache_entries", 100000}, {"max_import_items", 10000}}};
  std::unique_ptr<portico::Plugin> plugin;  // last: gone before the host and the library
};

}  // namespace routes_products_test
