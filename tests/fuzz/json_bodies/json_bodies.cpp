// Fuzz target: every route's JSON body reader. The first byte picks the route, the rest is the
// body as a partner or operator sends it. Each body goes through the one SDK parse helper
// (sdk::parse_json_text, with the server's default nesting limit), is re-serialized and parsed
// again (the round trip must give the same value — the original crash was a recursive dump of a
// 100,000-deep body), and then through the route's field reader. Orders also get their
// idempotency fingerprint (the canonical body, which must be a fixed point). The partner and key
// bodies run through PartnerService itself on a database stand-in that answers the reads with one
// canned row and stops at the first write: every check before the write is the real one.
//
// Expected: a ProblemError (the 400 the route answers). Anything else escaping aborts.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/partners/key_directory.hpp"
#include "core/partners/key_hasher.hpp"
#include "core/partners/partner_service.hpp"
#include "core/partners/records.hpp"
#include "core/partners/request_checks.hpp"
#include "plugins/routes_orders/idempotency.hpp"
#include "plugins/routes_orders/order_input.hpp"
#include "plugins/routes_orders/update_input.hpp"
#include "plugins/routes_products/product_input.hpp"
#include "plugins/routes_webhooks/endpoint_input.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/fields.hpp"
#include "portico/sdk/json.hpp"
#include "portico/sdk/sodium.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "webhooks_common/event_types.hpp"
#include "webhooks_common/target_guard.hpp"

namespace {

using nlohmann::json;
using portico::FieldError;
using portico::ProblemError;
namespace fuzz = portico::fuzz;
namespace sdk = portico::sdk;

constexpr int kDepth = sdk::kDefaultMaxJsonDepth;
constexpr std::size_t kMaxImportItems = 1000;  // routes_products' max_import_items default

// Serializing must work for every parsed value, and parsing the text again must give the value
// back (same types, same numbers, same strings).
std::string dump_round_trip(const json& value, std::string_view what) {
  std::string text;
  fuzz::expect_only<fuzz::Never>([&] { text = value.dump(); });
  sdk::JsonParse again = sdk::parse_json(text, kDepth);
  fuzz::check(again.ok(), "a dumped value does not parse again", what);
  fuzz::check(again.value == value, "a dumped value parses to another value", what);
  return text;
}

// The body as the route reads it: the 400 for a bad one escapes as ProblemError.
json parse_body(std::string_view text, bool object_only) {
  json body = sdk::parse_json_text(text, kDepth, object_only, "a JSON body");
  fuzz::check(!object_only || body.is_object(), "object_only let a non-object through");
  dump_round_trip(body, "body");
  return body;
}

void orders_create(std::string_view text) {
  const json body = parse_body(text, false);
  // The fingerprint's canonical text: the same for the re-parsed canonical text (a retry of the
  // same order must match itself).
  const std::string canonical = portico::routes_orders::canonical_body(body);
  const json reparsed = sdk::parse_json_text(canonical, kDepth, false);
  fuzz::check(portico::routes_orders::canonical_body(reparsed) == canonical,
              "the idempotency canonical body is not a fixed point");
  fuzz::check(sdk::blake2b(canonical).size() == 32, "fingerprint size");
  std::vector<FieldError> errors;
  const auto input = portico::routes_orders::read_order_input(body, errors);
  if (errors.empty()) {
    fuzz::check(!input.items.empty(), "a valid order without items");
    dump_round_trip(input.shipping_address, "shipping_address");
    dump_round_trip(input.metadata, "metadata");
  }
  sdk::refuse_invalid_fields(std::move(errors), "No order was created.");
}

void orders_patch(std::string_view text) {
  const json body = parse_body(text, true);
  std::vector<FieldError> errors;
  auto patch = portico::routes_orders::read_order_patch(body, errors);
  if (errors.empty() && patch.metadata) {
    const json stored = {{"channel", "web"}, {"ref", "PO-1"}};
    const json merged = portico::routes_orders::merge_metadata(stored, *patch.metadata);
    dump_round_trip(merged, "merged metadata");
    if (auto problem = portico::routes_orders::merged_metadata_problem(merged)) {
      errors.push_back(*problem);
    }
  }
  sdk::refuse_invalid_fields(std::move(errors));
}

void order_status(std::string_view text) {
  const json body = parse_body(text, true);
  std::vector<FieldError> errors;
  auto update = portico::routes_orders::read_status_update(body, errors);
  fuzz::check(!errors.empty() || portico::routes_orders::is_status(update.status),
              "a status update accepted an unknown status");
  sdk::refuse_invalid_fields(std::move(errors));
}

void order_shipment(std::string_view text) {
  const json body = parse_body(text, true);
  std::vector<FieldError> errors;
  auto update = portico::routes_orders::read_shipment_update(body, errors);
  if (errors.empty() && update.events) {
    const json previous = json::parse(
        R"([{"status":"picked_up","description":null,"location":"ICN","at":"2026-11-26T10:00:00.000Z"}])");
    const json events = portico::routes_orders::complete_tracking_events(
        *update.events, previous, "2026-11-27T00:00:00.000Z");
    dump_round_trip(events, "tracking events");
  }
  sdk::refuse_invalid_fields(std::move(errors));
}

// POST /admin/v1/products/import, as routes_products' import_products checks it.
void products_import(std::string_view text) {
  const json body = parse_body(text, false);
  if (!body.is_array()) {
    throw sdk::invalid_request("The body must be a JSON array of products.",
                               {{"body", "must be an array"}});
  }
  if (body.size() > kMaxImportItems) {
    throw sdk::invalid_request("Too many products.", {{"body", "too many"}});
  }
  std::vector<FieldError> errors;
  std::map<std::string, std::size_t> first_id, first_sku;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const std::string at = "[" + std::to_string(i) + "].";
    auto item = portico::routes_products::read_product(body[i], at, true, errors);
    if (item.id && !first_id.emplace(*item.id, i).second) errors.push_back({at + "id", "repeats"});
    if (!item.product.sku.empty() && !first_sku.emplace(item.product.sku, i).second) {
      errors.push_back({at + "sku", "repeats"});
    }
    dump_round_trip(item.product.attributes, "attributes");
  }
  sdk::refuse_invalid_fields(std::move(errors));
}

void product_upsert(std::string_view text) {
  const json body = parse_body(text, false);
  std::vector<FieldError> errors;
  auto input = portico::routes_products::read_product(body, "", false, errors);
  fuzz::check(!input.stock.has_value(), "an upsert read inventory");
  if (errors.empty()) {
    fuzz::check(input.product.attributes.is_object() || input.product.attributes.is_null(),
                "attributes are not an object");
    fuzz::check(
        input.product.attributes.dump().size() <= portico::routes_products::kMaxAttributesBytes,
        "attributes over 16 KiB accepted");
  }
  sdk::refuse_invalid_fields(std::move(errors));
}

void stock_settings(std::string_view text) {
  const json body = parse_body(text, false);
  std::vector<FieldError> errors;
  auto settings = portico::routes_products::read_stock_settings(body, "", errors);
  for (const auto& setting : settings) {
    fuzz::check(portico::routes_products::is_valid_id(setting.warehouse_id),
                "a stock setting with an invalid warehouse id");
  }
  sdk::refuse_invalid_fields(std::move(errors));
}

void stock_adjustment(std::string_view text) {
  const json body = parse_body(text, false);
  std::vector<FieldError> errors;
  auto adjustment = portico::routes_products::read_adjustment(body, errors);
  fuzz::check(!errors.empty() || adjustment.delta != 0, "a zero adjustment accepted");
  sdk::refuse_invalid_fields(std::move(errors));
}

// The plugin's checks without DNS: the URL's text, and literal addresses by class.
portico::routes_webhooks::EndpointChecks endpoint_checks() {
  return {[](const std::string& url) -> std::optional<std::string> {
            auto parsed = portico::webhooks::parse_target(url);
            if (!parsed) return parsed.error;
            if (parsed.target->host_is_ip && portico::webhooks::address_refusal(
                                                 parsed.target->host, parsed.target->host, false)) {
              return std::string(portico::webhooks::kPartnerNotPublicHost);
            }
            return std::nullopt;
          },
          [](const std::vector<std::string>& filters, const std::string& field) {
            return portico::webhooks::validate_filters(filters, field);
          }};
}

void webhook_create(std::string_view text) {
  const json body = parse_body(text, true);
  std::vector<FieldError> errors;
  auto input = portico::routes_webhooks::read_endpoint_create(body, errors, endpoint_checks());
  if (errors.empty()) {
    fuzz::check(portico::webhooks::parse_target(input.url).target.has_value(),
                "an endpoint URL the guard refuses was accepted");
    fuzz::check(!input.events.empty(), "an endpoint without events was accepted");
  }
  sdk::refuse_invalid_fields(std::move(errors));
}

void webhook_patch(std::string_view text) {
  const json body = parse_body(text, true);
  std::vector<FieldError> errors;
  auto patch = portico::routes_webhooks::read_endpoint_patch(body, errors, endpoint_checks());
  if (errors.empty() && patch.url) {
    fuzz::check(portico::webhooks::parse_target(*patch.url).target.has_value(),
                "a patched endpoint URL the guard refuses was accepted");
  }
  sdk::refuse_invalid_fields(std::move(errors));
}

// --- the partners admin bodies --------------------------------------------------------------

// Thrown by the database stand-in at the first write: the body passed every check.
struct ReachedWrite {};

class CannedDatabase final : public portico::Database {
 public:
  portico::Rows query(std::string_view sql, const portico::Params&) override {
    if (sql.find("FROM api_keys") != std::string_view::npos) return {key_row()};
    if (sql.find("FROM partners") != std::string_view::npos) return {partner_row()};
    return {};
  }
  std::int64_t execute(std::string_view, const portico::Params&) override { throw ReachedWrite{}; }
  void execute_script(std::string_view) override { throw ReachedWrite{}; }
  void transaction(const std::function<void(portico::Session&)>& body) override { body(*this); }
  std::string backend_name() const override { return "canned"; }

 private:
  static std::shared_ptr<const std::vector<std::string>> columns(const char* list) {
    auto names = std::make_shared<std::vector<std::string>>();
    std::string_view rest(list);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      std::string_view name = rest.substr(0, comma);
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
      names->emplace_back(name);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return names;
  }
  static portico::Row partner_row() {
    static const auto names = columns(portico::partners::kPartnerColumns);
    return portico::Row(names,
                        {std::string("ptr_fuzz"), std::string("Fuzz Partner"), std::string("basic"),
                         std::string("active"), std::string("[]"), std::int64_t{0},
                         std::string("2026-11-26T10:00:00Z"), std::string("2026-11-26T10:00:00Z")});
  }
  static portico::Row key_row() {
    static const auto names = columns(portico::partners::kKeyColumns);
    return portico::Row(
        names, {std::string("key_fuzz"), std::string("ptr_fuzz"), std::string("live"),
                std::string("pk_live_abcd"), std::string("00"), std::string(R"(["products:read"])"),
                std::string("2026-11-26T10:00:00Z"), nullptr, nullptr, nullptr, nullptr});
  }
};

portico::partners::PartnerService& partner_service() {
  static auto db = std::make_shared<CannedDatabase>();
  static auto keys = std::make_shared<portico::partners::KeyDirectory>(
      db, portico::partners::KeyHasher("0123456789abcdef0123456789abcdef-fuzz-secret"));
  static portico::partners::PartnerService service(db, keys, [] {
    return std::vector<std::string>{"basic", "premium"};
  });
  return service;
}

portico::Request admin_request(std::string_view text) {
  portico::Request request;
  request.method = "POST";
  request.body = std::string(text);
  request.max_json_depth = kDepth;
  return request;
}

template <typename Call>
void partners_call(std::string_view text, bool empty_is_object, Call&& call) {
  const json body = portico::partners::parse_object_body(admin_request(text), empty_is_object);
  fuzz::check(body.is_object(), "parse_object_body let a non-object through");
  dump_round_trip(body, "admin body");
  try {
    const json answer = call(body);
    dump_round_trip(answer, "admin answer");
  } catch (const ReachedWrite&) {
  }
}

void partner_create(std::string_view text) {
  partners_call(text, false,
                [](const json& body) { return partner_service().create_partner(body); });
}
void partner_update(std::string_view text) {
  partners_call(text, false, [](const json& body) {
    return partner_service().update_partner("ptr_fuzz", body);
  });
}
void key_issue(std::string_view text) {
  partners_call(text, true,
                [](const json& body) { return partner_service().issue_key("ptr_fuzz", body); });
}
void key_rotate(std::string_view text) {
  partners_call(text, true, [](const json& body) {
    return partner_service().rotate_key("ptr_fuzz", "key_fuzz", body);
  });
}

using Reader = void (*)(std::string_view);
constexpr Reader kReaders[] = {
    orders_create,  orders_patch,   order_status,     order_shipment, products_import,
    product_upsert, stock_settings, stock_adjustment, webhook_create, webhook_patch,
    partner_create, partner_update, key_issue,        key_rotate,
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sdk::initialise_sodium();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Reader reader = kReaders[data[0] % std::size(kReaders)];
  const std::string_view body = fuzz::as_text(data + 1, size - 1);
  fuzz::expect_only<ProblemError>([&] { reader(body); });
  return 0;
}
