// routes_products: the product catalog and real-time inventory. Metadata, schema, migrations and
// the factory; the logic lives in catalog_store / product_reads / partner_routes / admin_routes.
#include <memory>
#include <vector>

#include "catalog_context.hpp"
#include "catalog_schema.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/routes.hpp"
#include "portico/sdk/schema.hpp"
#include "portico/sdk/sodium.hpp"

namespace {

namespace rp = portico::routes_products;

class RoutesProductsPlugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "routes_products";
  static constexpr const char* kVersion = "1.0.0";

  portico::PluginInfo info() const override {
    namespace sdk = portico::sdk;
    return {.name = kName,
            .version = kVersion,
            .description =
                "Product catalog and real-time inventory: /v1/products and the "
                "/admin/v1/products operator routes",
            .priority = 0,
            .kinds = {portico::PluginKind::routes},
            .schema = sdk::schema(
                {sdk::integer("cache_entries")
                     .describe("Most products kept rendered in memory; beyond it the least "
                               "recently read are dropped (and re-read on demand)")
                     .min(64)
                     .fallback(100000),
                 sdk::integer("max_import_items")
                     .describe("Most products one POST /admin/v1/products/import may carry")
                     .min(1)
                     .max(100000)
                     .fallback(10000)})};
  }
  std::vector<portico::Migration> migrations() const override { return rp::catalog_migrations(); }
  void init(portico::Host& host) override {
    portico::sdk::initialise_sodium();
    const nlohmann::json& config = host.config();
    rp::CatalogSettings settings;
    settings.cache_entries = config.value("cache_entries", settings.cache_entries);
    settings.max_import_items = config.value("max_import_items", settings.max_import_items);
    context_ = std::make_unique<rp::CatalogContext>(
        host, portico::sdk::stored_secret(host.database(), "products_secrets", "cursor_mac_key"),
        settings);
    auto* c = context_.get();
    routes_ = std::make_unique<portico::sdk::RouteTable>(portico::sdk::RouteTable{
        [c] { return rp::partner_routes(*c); }, [c] { return rp::admin_routes(*c); }});
  }
  portico::RouteProvider* routes() override { return routes_.get(); }

 private:
  std::unique_ptr<rp::CatalogContext> context_;
  std::unique_ptr<portico::sdk::RouteTable> routes_;
};

}  // namespace

PORTICO_PLUGIN(RoutesProductsPlugin);
