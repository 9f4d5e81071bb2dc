// routes_orders: order creation with idempotency and all-or-nothing stock reservation, tracking,
// status updates and shipments. Metadata, schema, migrations, the idempotency pruner and the
// factory; the logic lives in create_route / partner_routes / admin_routes / order_store.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "order_schema.hpp"
#include "orders_context.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/routes.hpp"
#include "portico/sdk/schema.hpp"
#include "portico/sdk/sodium.hpp"
#include "portico/sdk/thread_name.hpp"

namespace {

namespace ro = portico::routes_orders;

// Deletes expired idempotency records once a minute (lookups ignore expired ones meanwhile).
class IdempotencyPruner final : public portico::Service {
 public:
  explicit IdempotencyPruner(ro::OrdersContext& context) : context_(context) {}
  ~IdempotencyPruner() override { stop(); }

  void start() override {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] {
      portico::sdk::name_this_thread("orders-prune");
      run();
    });
  }
  void stop() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        const auto removed = ro::prune_idempotency_keys(context_);
        if (removed > 0) {
          context_.host.log().debug("removed " + std::to_string(removed) +
                                    " expired idempotency keys");
        }
      } catch (const std::exception& e) {
        context_.host.log().warn(std::string("pruning idempotency keys failed: ") + e.what());
      }
      lock.lock();
      wake_.wait_for(lock, std::chrono::minutes(1), [this] { return stopping_; });
    }
  }

  ro::OrdersContext& context_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

class RoutesOrdersPlugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "routes_orders";
  static constexpr const char* kVersion = "1.0.0";

  portico::PluginInfo info() const override {
    namespace sdk = portico::sdk;
    return {.name = kName,
            .version = kVersion,
            .description =
                "Orders: creation with Idempotency-Key and atomic stock reservation, tracking, "
                "partner cancellation, operator status updates and shipments",
            .priority = 0,
            .kinds = {portico::PluginKind::routes, portico::PluginKind::service},
            .schema = sdk::schema({sdk::duration("idempotency_retention")
                                       .describe("How long an Idempotency-Key and its stored "
                                                 "answer are kept (at least 24h)")
                                       .min(24.0 * 3600 * 1000)
                                       .fallback("24h")})};
  }
  std::vector<portico::Migration> migrations() const override { return ro::order_migrations(); }
  void init(portico::Host& host) override {
    portico::sdk::initialise_sodium();
    require_catalog_tables(host.database());
    ro::OrdersSettings settings;
    settings.idempotency_retention = std::chrono::milliseconds(
        host.config().value("idempotency_retention", settings.idempotency_retention.count()));
    context_ = std::make_unique<ro::OrdersContext>(
        host, portico::sdk::stored_secret(host.database(), "orders_secrets", "cursor_mac_key"),
        settings);
    auto* c = context_.get();
    routes_ = std::make_unique<portico::sdk::RouteTable>(portico::sdk::RouteTable{
        [c] { return ro::create_routes(*c); }, [c] { return ro::partner_routes(*c); },
        [c] { return ro::admin_routes(*c); }});
    pruner_ = std::make_unique<IdempotencyPruner>(*context_);
  }
  portico::RouteProvider* routes() override { return routes_.get(); }
  portico::Service* service() override { return pruner_.get(); }

 private:
  // Orders reserve stock in the catalog's tables (routes_products' stock SQL contract).
  static void require_catalog_tables(portico::Database& db) {
    try {
      db.query("SELECT 1 FROM products JOIN stock ON stock.product_id = products.id WHERE 0 = 1");
    } catch (const portico::DatabaseError&) {
      throw std::runtime_error(
          "routes_orders needs the catalog's tables (products, stock): enable "
          "[plugins.routes_products] too");
    }
  }

  std::unique_ptr<ro::OrdersContext> context_;
  std::unique_ptr<portico::sdk::RouteTable> routes_;
  std::unique_ptr<IdempotencyPruner> pruner_;
};

}  // namespace

PORTICO_PLUGIN(RoutesOrdersPlugin);
