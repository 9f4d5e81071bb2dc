// routes_webhooks: partner-facing webhook endpoint management (/v1/webhooks) and the events API
// (/v1/events). Metadata, schema, migrations and the factory; the logic lives in endpoint_routes
// and event_routes. The tables (webhook_schema.hpp) are shared with the webhook_delivery plugin,
// which reads the endpoints and works the delivery queue.
#include <memory>
#include <vector>

#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/routes.hpp"
#include "portico/sdk/schema.hpp"
#include "portico/sdk/sodium.hpp"
#include "webhook_schema.hpp"
#include "webhooks_common/secrets_at_rest.hpp"
#include "webhooks_context.hpp"

namespace {

namespace rw = portico::routes_webhooks;

class RoutesWebhooksPlugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "routes_webhooks";
  static constexpr const char* kVersion = "1.0.0";

  portico::PluginInfo info() const override {
    namespace sdk = portico::sdk;
    return {.name = kName,
            .version = kVersion,
            .description =
                "Webhook endpoints (/v1/webhooks: CRUD, secret rotation, test events, the attempt "
                "log) and the events API (/v1/events: the last 30 days, redelivery)",
            .priority = 0,
            .kinds = {portico::PluginKind::routes},
            .schema = sdk::schema(
                {sdk::boolean("allow_private_targets")
                     .describe("Accept endpoint URLs on loopback, private, link-local and reserved "
                               "addresses (tests, internal receivers); the webhook_delivery plugin "
                               "checks its own key again at delivery time")
                     .fallback(false),
                 sdk::integer("max_endpoints_per_partner")
                     .describe("Most webhook endpoints one partner may have")
                     .min(1)
                     .max(100)
                     .fallback(16)})};
  }
  std::vector<portico::Migration> migrations() const override { return rw::webhook_migrations(); }
  void init(portico::Host& host) override {
    portico::sdk::initialise_sodium();
    // Signing secrets are stored sealed under the data key: none configured, no start. Rows from
    // before (plain text) or sealed under a previous data key are sealed under the current one.
    portico::webhooks::require_data_key(host);
    portico::webhooks::reseal_endpoint_secrets(host);
    const nlohmann::json& config = host.config();
    rw::WebhooksSettings settings;
    settings.allow_private_targets =
        config.value("allow_private_targets", settings.allow_private_targets);
    settings.max_endpoints_per_partner =
        config.value("max_endpoints_per_partner", settings.max_endpoints_per_partner);
    context_ = std::make_unique<rw::WebhooksContext>(
        host, portico::sdk::stored_secret(host.database(), "webhooks_secrets", "cursor_mac_key"),
        settings);
    auto* c = context_.get();
    routes_ = std::make_unique<portico::sdk::RouteTable>(portico::sdk::RouteTable{
        [c] { return rw::endpoint_routes(*c); }, [c] { return rw::event_routes(*c); }});
  }
  portico::RouteProvider* routes() override { return routes_.get(); }

 private:
  std::unique_ptr<rw::WebhooksContext> context_;
  std::unique_ptr<portico::sdk::RouteTable> routes_;
};

}  // namespace

PORTICO_PLUGIN(RoutesWebhooksPlugin);
