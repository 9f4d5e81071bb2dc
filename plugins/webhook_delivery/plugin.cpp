// webhook_delivery: the service that delivers outbox events to partners' webhook endpoints —
// signed (Standard Webhooks 1.0), retried on the contract's schedule, in order per order id, at
// least once, never to private addresses unless allowed. Metadata, schema and factory; the logic
// lives in delivery_engine / delivery_store (see README.md).
#include <memory>
#include <stdexcept>

#include "plugins/webhook_delivery/delivery_service.hpp"
#include "plugins/webhook_delivery/delivery_settings.hpp"
#include "plugins/webhook_delivery/delivery_store.hpp"
#include "lib/http_client/http_client.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/schema.hpp"
#include "portico/sdk/sodium.hpp"
#include "webhooks_common/secrets_at_rest.hpp"

namespace {

namespace wd = portico::webhook_delivery;

class WebhookDeliveryPlugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "webhook_delivery";
  static constexpr const char* kVersion = "1.0.0";

  portico::PluginInfo info() const override {
    namespace sdk = portico::sdk;
    return {.name = kName,
            .version = kVersion,
            .description =
                "Webhook delivery: fans outbox events out to matching endpoints and delivers them "
                "signed, retried, in order per order, at least once",
            // After routes_webhooks, whose tables it uses.
            .priority = -10,
            .kinds = {portico::PluginKind::service},
            .schema = sdk::schema(
                {sdk::boolean("allow_private_targets")
                     .describe("Deliver to loopback, private and link-local addresses (tests, "
                               "internal receivers); public addresses only when false")
                     .fallback(false),
                 sdk::integer("max_in_flight_per_endpoint")
                     .describe("Requests to one endpoint on the wire at once")
                     .min(1)
                     .max(64)
                     .fallback(8),
                 sdk::string("ca_file").describe(
                     "PEM file of the CAs that endpoint certificates are checked against, instead "
                     "of the system store"),
                 sdk::duration("poll_interval")
                     .describe("How often the outbox and the retry queue are polled when idle")
                     .min(10)
                     .fallback("100ms"),
                 sdk::integer("client_threads")
                     .describe("I/O threads of the outbound HTTP client")
                     .min(1)
                     .max(8)
                     .fallback(1),
                 sdk::duration("lease")
                     .describe("How long a delivery claimed by this node is skipped by other "
                               "nodes on the database; after a crash it is sent again from "
                               "another node once this passed")
                     .min(1000)
                     .max(3600000)
                     .fallback("10s")})};
  }

  std::vector<portico::Migration> migrations() const override { return wd::delivery_migrations(); }

  void init(portico::Host& host) override {
    portico::sdk::initialise_sodium();
    wd::require_webhook_tables(host.database());
    wd::ensure_delivery_indexes(host.database());
    // It opens the sealed signing secrets: no data key, no start. Anything routes_webhooks has
    // not sealed under the current key yet (it may be disabled) is sealed now.
    portico::webhooks::require_data_key(host);
    portico::webhooks::reseal_endpoint_secrets(host);
    auto settings = wd::settings_from_config(host.config());
    if (settings.ca_file) {
      // Refuse a bad CA file now, with its name, rather than when the service starts.
      try {
        portico::http_client::ClientOptions probe;
        probe.ca_file = settings.ca_file;
        portico::http_client::HttpClient check(std::move(probe));
      } catch (const std::exception& e) {
        throw std::runtime_error("ca_file: " + std::string(e.what()));
      }
    }
    service_ = std::make_unique<wd::DeliveryService>(host, std::move(settings));
  }

  portico::Service* service() override { return service_.get(); }

 private:
  std::unique_ptr<wd::DeliveryService> service_;
};

}  // namespace

PORTICO_PLUGIN(WebhookDeliveryPlugin);
