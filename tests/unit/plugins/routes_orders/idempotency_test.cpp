// The Idempotency-Key header (quoted or bare, bounded, printable) and what the request fingerprint
// hashes: the same request in another layout is the same request; any other value is not.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "plugins/routes_orders/idempotency.hpp"

namespace {

using json = nlohmann::json;
namespace ro = portico::routes_orders;

std::optional<std::string> key_of(std::optional<std::string_view> header) {
  std::string error;
  auto key = ro::parse_idempotency_key(header, error);
  EXPECT_EQ(key.has_value(), error.empty()) << error;
  return key;
}

std::string error_of(std::optional<std::string_view> header) {
  std::string error;
  EXPECT_FALSE(ro::parse_idempotency_key(header, error));
  return error;
}

TEST(IdempotencyKey, BareAndQuotedFormsAreTheSameKey) {
  EXPECT_EQ(key_of("8e03978e-40d5-43e8-bc93-6894a57f9324"), "8e03978e-40d5-43e8-bc93-6894a57f9324");
  EXPECT_EQ(key_of("\"8e03978e-40d5-43e8-bc93-6894a57f9324\""),
            "8e03978e-40d5-43e8-bc93-6894a57f9324");
  EXPECT_EQ(key_of("  abc\t"), "abc");
  EXPECT_EQ(key_of(" \"abc\" "), "abc");
}

TEST(IdempotencyKey, QuotedKeysMayEscapeQuotesAndBackslashes) {
  EXPECT_EQ(key_of(R"("a\"b\\c")"), R"(a"b\c)");
  EXPECT_EQ(key_of("\"with space\""), "with space");
  EXPECT_NE(error_of(R"("a\nb")"), "");  // only \" and \\ are escapes
  EXPECT_NE(error_of(R"("a"b")"), "");   // a bare quote inside quotes
  EXPECT_NE(error_of("\"abc"), "");      // unterminated
  EXPECT_NE(error_of("\""), "");
}

TEST(IdempotencyKey, MissingOrEmptyIsRefused) {
  EXPECT_NE(error_of(std::nullopt).find("is required"), std::string::npos);
  EXPECT_EQ(error_of(""), "must not be empty");
  EXPECT_EQ(error_of("   "), "must not be empty");
  EXPECT_EQ(error_of("\"\""), "must not be empty");
}

TEST(IdempotencyKey, AtMost255Characters) {
  EXPECT_EQ(key_of(std::string(255, 'k')), std::string(255, 'k'));
  EXPECT_EQ(key_of("\"" + std::string(255, 'k') + "\""), std::string(255, 'k'));
  EXPECT_EQ(error_of(std::string(256, 'k')), "must be at most 255 characters");
  EXPECT_EQ(error_of("\"" + std::string(256, 'k') + "\""), "must be at most 255 characters");
}

TEST(IdempotencyKey, ControlAndNonAsciiCharactersAreRefused) {
  EXPECT_NE(error_of(std::string("a\0b", 3)), "");
  EXPECT_NE(error_of("a\x01"
                     "b"),
            "");
  EXPECT_NE(error_of("a\x7f"), "");
  EXPECT_NE(error_of("\"a\tb\""), "");
  EXPECT_NE(error_of("키"), "");
}

TEST(Fingerprint, LayoutMemberOrderAndEscapesDoNotMatter) {
  const json a = json::parse(R"({"items":[{"product_id":"p1","quantity":2}],"external_id":"é"})");
  const json b = json::parse(R"(
    { "external_id" : "\u00e9",
      "items" : [ { "quantity" : 2, "product_id" : "p1" } ] })");
  EXPECT_EQ(ro::canonical_body(a), ro::canonical_body(b));
}

TEST(Fingerprint, AnyOtherValueIsAnotherRequest) {
  const json a = json::parse(R"({"items":[{"product_id":"p1","quantity":2}]})");
  EXPECT_NE(ro::canonical_body(a),
            ro::canonical_body(json::parse(R"({"items":[{"product_id":"p1","quantity":3}]})")));
  EXPECT_NE(ro::canonical_body(a),
            ro::canonical_body(json::parse(R"({"items":[{"product_id":"p1","quantity":2.0}]})")));
  EXPECT_NE(ro::canonical_body(a),
            ro::canonical_body(json::parse(R"({"items":[{"product_id":"p1","quantity":"2"}]})")));
  EXPECT_NE(
      ro::canonical_body(a),
      ro::canonical_body(json::parse(R"({"items":[{"product_id":"p1","quantity":2}],"x":null})")));
  // Line order is part of the order.
  EXPECT_NE(ro::canonical_body(json::parse(R"({"items":[1,2]})")),
            ro::canonical_body(json::parse(R"({"items":[2,1]})")));
}

TEST(IdempotencyKey, ClaimsArePerPartner) {
  EXPECT_NE(ro::in_flight_key("prt_a", "k"), ro::in_flight_key("prt_b", "k"));
  // The separator is a control character, which parse_idempotency_key never lets into a key.
  std::string error;
  EXPECT_FALSE(
      ro::parse_idempotency_key("b\x1f"
                                "c",
                                error));
}

TEST(IdempotentResponse, AReplayIsMarkedAndKeepsStatusBodyAndLocation) {
  portico::Response fresh = ro::idempotent_response(201, "{\"id\":\"ord_1\"}", "ord_1", false);
  EXPECT_EQ(fresh.status, 201);
  EXPECT_EQ(fresh.header("Location"), "/v1/orders/ord_1");
  EXPECT_FALSE(fresh.header("Idempotent-Replayed"));

  portico::Response replayed = ro::idempotent_response(201, "{\"id\":\"ord_1\"}", "ord_1", true);
  EXPECT_EQ(replayed.status, 201);
  EXPECT_EQ(replayed.body, fresh.body);
  EXPECT_EQ(replayed.header("Location"), "/v1/orders/ord_1");
  EXPECT_EQ(replayed.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(replayed.content_type, "application/json");
}

}  // namespace
