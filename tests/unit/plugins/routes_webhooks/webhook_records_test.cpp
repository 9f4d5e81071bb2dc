// What partners see of an endpoint (never a secret or the signing key; public_key only when v1a
// is on) and of an attempt, ids that can exist, and the positions cursors carry.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "plugins/routes_webhooks/webhook_records.hpp"

namespace {

using json = nlohmann::json;
namespace rw = portico::routes_webhooks;

rw::Endpoint endpoint() {
  rw::Endpoint e;
  e.id = "we_0123456789abcdefghijklmn";
  e.partner_id = "ptr_1";
  e.url = "https://hooks.example.com/portico";
  e.events = {"order.*", "inventory.changed"};
  e.description = "Order sync";
  e.status = "enabled";
  e.secret = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";
  e.previous_secret = "whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkMTI=";
  e.previous_secret_expires_at = "2026-11-27T10:00:00.000Z";
  e.failing_since = "2026-11-26T09:00:00.000Z";
  e.created_at = "2026-11-26T10:00:00.000Z";
  e.updated_at = "2026-11-26T10:05:00.000Z";
  return e;
}

TEST(EndpointJson, ShowsTheEndpointAndNoSecret) {
  json shown = json::parse(rw::endpoint_json(endpoint()).dump());
  EXPECT_EQ(shown, (json{{"id", "we_0123456789abcdefghijklmn"},
                         {"url", "https://hooks.example.com/portico"},
                         {"events", {"order.*", "inventory.changed"}},
                         {"description", "Order sync"},
                         {"status", "enabled"},
                         {"disabled_reason", nullptr},
                         {"created_at", "2026-11-26T10:00:00.000Z"},
                         {"updated_at", "2026-11-26T10:05:00.000Z"}}));
  const std::string text = rw::endpoint_json(endpoint()).dump();
  EXPECT_EQ(text.find("whsec_"), std::string::npos);
  EXPECT_TRUE(text.starts_with(R"({"id":"we_)"));  // members in a stable order
}

TEST(EndpointJson, PublicKeyAndDisabledReasonWhenSet) {
  rw::Endpoint e = endpoint();
  e.signing_key = "whsk_secret";
  e.public_key = "whpk_public";
  e.status = "disabled";
  e.disabled_reason = "the endpoint answered 410 Gone";
  json shown = json::parse(rw::endpoint_json(e).dump());
  EXPECT_EQ(shown["public_key"], "whpk_public");
  EXPECT_EQ(shown["disabled_reason"], "the endpoint answered 410 Gone");
  EXPECT_EQ(rw::endpoint_json(e).dump().find("whsk_"), std::string::npos);
}

TEST(EndpointRow, ReadsEveryColumn) {
  auto columns = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{
      "id", "partner_id", "url", "events", "description", "status", "disabled_reason", "secret",
      "previous_secret", "previous_secret_expires_at", "signing_key", "public_key", "failing_since",
      "created_at", "updated_at"});
  portico::Row row(columns,
                   {std::string("we_1"), std::string("ptr_1"), std::string("https://a/"),
                    std::string(R"(["order.*","*"])"), std::string(""), std::string("disabled"),
                    std::string("410"), std::string("whsec_a"), nullptr, nullptr, nullptr,
                    std::string("whpk_x"), nullptr, std::string("c"), std::string("u")});
  rw::Endpoint e = rw::endpoint_from_row(row);
  EXPECT_EQ(e.id, "we_1");
  EXPECT_EQ(e.events, (std::vector<std::string>{"order.*", "*"}));
  EXPECT_EQ(e.disabled_reason, "410");
  EXPECT_FALSE(e.previous_secret);
  EXPECT_EQ(e.public_key, "whpk_x");
  EXPECT_EQ(e.updated_at, "u");
  EXPECT_EQ(rw::filters_to_text(e.events), R"(["order.*","*"])");
}

TEST(AttemptJson, NullsWhereThereWasNoAnswer) {
  rw::Attempt a;
  a.id = 7;
  a.event_id = "evt_1";
  a.attempt = 2;
  a.at = "2026-11-26T10:00:05.000Z";
  a.latency_ms = 15000;
  a.error = "timed out after 15s";
  a.delivery_state = "pending";
  EXPECT_EQ(json::parse(rw::attempt_json(a).dump()), (json{{"id", 7},
                                                           {"event_id", "evt_1"},
                                                           {"event_type", nullptr},
                                                           {"attempt", 2},
                                                           {"at", "2026-11-26T10:00:05.000Z"},
                                                           {"status_code", nullptr},
                                                           {"latency_ms", 15000},
                                                           {"error", "timed out after 15s"},
                                                           {"delivery_state", "pending"}}));
  a.status_code = 200;
  a.error.reset();
  a.event_type = "order.created";
  json shown = json::parse(rw::attempt_json(a).dump());
  EXPECT_EQ(shown["status_code"], 200);
  EXPECT_TRUE(shown["error"].is_null());
  EXPECT_EQ(shown["event_type"], "order.created");
}

TEST(Ids, OnlyPrefixedBase62IdsCanExist) {
  EXPECT_TRUE(rw::plausible_id("we_0123456789abcdefghijklmn", rw::kEndpointIdPrefix));
  EXPECT_TRUE(rw::plausible_id("evt_Abc", rw::kEventIdPrefix));
  EXPECT_FALSE(rw::plausible_id("we_", rw::kEndpointIdPrefix));
  EXPECT_FALSE(rw::plausible_id("ord_abc", rw::kEndpointIdPrefix));
  EXPECT_FALSE(rw::plausible_id("we_a-b", rw::kEndpointIdPrefix));
  EXPECT_FALSE(rw::plausible_id("we_a%27", rw::kEndpointIdPrefix));
  EXPECT_FALSE(rw::plausible_id("we_" + std::string(62, 'a'), rw::kEndpointIdPrefix));
  EXPECT_TRUE(rw::plausible_id("we_" + std::string(61, 'a'), rw::kEndpointIdPrefix));
}

TEST(Positions, RoundTrip) {
  auto p = rw::decode_endpoint_position(
      rw::encode_endpoint_position("2026-11-26T10:00:00.000Z", "we_1"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->created_at, "2026-11-26T10:00:00.000Z");
  EXPECT_EQ(p->id, "we_1");
  EXPECT_FALSE(rw::decode_endpoint_position("no-bar"));
  EXPECT_FALSE(rw::decode_endpoint_position("|we_1"));
  EXPECT_FALSE(rw::decode_endpoint_position("2026|"));

  EXPECT_EQ(rw::decode_number_position("42"), 42);
  EXPECT_FALSE(rw::decode_number_position(""));
  EXPECT_FALSE(rw::decode_number_position("0"));
  EXPECT_FALSE(rw::decode_number_position("-1"));
  EXPECT_FALSE(rw::decode_number_position("12a"));
  EXPECT_FALSE(rw::decode_number_position("1234567890123456789"));
}

}  // namespace
