// The body of POST /v1/orders checked field by field: a valid order reads whole; every problem is
// named the way the caller wrote it ("items[0].quantity", "shipping_address.city"), all at once.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "plugins/routes_orders/order_input.hpp"

namespace {

using json = nlohmann::json;
using portico::FieldError;
namespace ro = portico::routes_orders;

json valid_address() {
  return {{"name", "김민준"},
          {"line1", "서울특별시 강남구 테헤란로 152"},
          {"line2", "12층"},
          {"city", "Seoul"},
          {"postal_code", "06236"},
          {"country", "KR"},
          {"phone", "+82 (10) 1234-5678"}};
}

json valid_order() {
  return {{"external_id", "PO-1001"},
          {"items",
           {{{"product_id", "prod_1"}, {"quantity", 2}},
            {{"product_id", "prod_2"}, {"quantity", 999}}}},
          {"shipping_address", valid_address()},
          {"metadata", {{"channel", "web"}}}};
}

std::vector<std::string> fields_of(const std::vector<FieldError>& errors) {
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  return fields;
}

std::vector<FieldError> errors_of(const json& body) {
  std::vector<FieldError> errors;
  ro::read_order_input(body, errors);
  return errors;
}

std::string message_of(const json& body, const std::string& field) {
  for (const auto& e : errors_of(body)) {
    if (e.field == field) return e.message;
  }
  return "<no error for " + field + ">";
}

TEST(OrderInput, AValidOrderReadsWhole) {
  std::vector<FieldError> errors;
  ro::OrderInput input = ro::read_order_input(valid_order(), errors);
  EXPECT_TRUE(errors.empty()) << fields_of(errors).front();
  EXPECT_EQ(input.external_id, "PO-1001");
  ASSERT_EQ(input.items.size(), 2u);
  EXPECT_EQ(input.items[0].product_id, "prod_1");
  EXPECT_EQ(input.items[0].quantity, 2);
  EXPECT_EQ(input.items[1].product_id, "prod_2");
  EXPECT_EQ(input.items[1].quantity, 999);
  EXPECT_EQ(input.shipping_address, valid_address());
  EXPECT_EQ(input.metadata, (json{{"channel", "web"}}));
}

TEST(OrderInput, OptionalFieldsTakeTheirDefaults) {
  json body = valid_order();
  body.erase("external_id");
  body.erase("metadata");
  body["shipping_address"].erase("line2");
  body["shipping_address"]["phone"] = nullptr;
  std::vector<FieldError> errors;
  ro::OrderInput input = ro::read_order_input(body, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(input.external_id);
  EXPECT_EQ(input.metadata, json::object());
  // Every address has every member; the absent optional ones are null.
  EXPECT_TRUE(input.shipping_address.at("line2").is_null());
  EXPECT_TRUE(input.shipping_address.at("phone").is_null());
  EXPECT_EQ(input.shipping_address.size(), 7u);
}

TEST(OrderInput, MissingRequiredFieldsAreNamed) {
  EXPECT_EQ(fields_of(errors_of(json::object())),
            (std::vector<std::string>{"items", "shipping_address"}));
  json body = valid_order();
  body["shipping_address"] = json::object();
  EXPECT_EQ(fields_of(errors_of(body)),
            (std::vector<std::string>{"shipping_address.name", "shipping_address.line1",
                                      "shipping_address.city", "shipping_address.postal_code",
                                      "shipping_address.country"}));
}

TEST(OrderInput, ABodyThatIsNotAnObjectIsNamed) {
  EXPECT_EQ(fields_of(errors_of(json::array())), (std::vector<std::string>{"body"}));
  EXPECT_EQ(fields_of(errors_of(json("order"))), (std::vector<std::string>{"body"}));
}

TEST(OrderInput, EveryProblemIsListedAtOnce) {
  json body = {{"external_id", 42},
               {"items",
                {{{"product_id", "prod_1"}, {"quantity", 0}},
                 {{"product_id", ""}, {"quantity", 1.5}},
                 "prod_3",
                 {{"quantity", 1000}, {"colour", "red"}}}},
               {"shipping_address",
                {{"name", ""},
                 {"line1", std::string(201, 'x')},
                 {"city", 7},
                 {"postal_code", "06236"},
                 {"country", "kr"},
                 {"phone", "call me"},
                 {"zip", "06236"}}},
               {"metadata", {{"k", 1}}},
               {"coupon", "FREE"}};
  EXPECT_EQ(fields_of(errors_of(body)),
            (std::vector<std::string>{
                "coupon", "external_id", "items[0].quantity", "items[1].product_id",
                "items[1].quantity", "items[2]", "items[3].colour", "items[3].product_id",
                "items[3].quantity", "shipping_address.zip", "shipping_address.name",
                "shipping_address.line1", "shipping_address.city", "shipping_address.country",
                "shipping_address.phone", "metadata.k"}));
}

TEST(OrderInput, UnknownFieldsAreRefused) {
  json body = valid_order();
  body["note"] = "leave at the door";
  EXPECT_EQ(message_of(body, "note"), "is not a known field");
}

TEST(OrderInput, ItemsHoldOneToAHundredLines) {
  json body = valid_order();
  body["items"] = json::array();
  EXPECT_EQ(message_of(body, "items"), "must hold at least 1 item");
  body["items"] = json::object();
  EXPECT_EQ(fields_of(errors_of(body)), (std::vector<std::string>{"items"}));
  body["items"] = json::array();
  for (int i = 0; i < 100; ++i) {
    body["items"].push_back({{"product_id", "prod_" + std::to_string(i)}, {"quantity", 1}});
  }
  EXPECT_TRUE(errors_of(body).empty());
  body["items"].push_back({{"product_id", "prod_100"}, {"quantity", 1}});
  EXPECT_EQ(message_of(body, "items"), "must hold at most 100 items, has 101");
  EXPECT_EQ(errors_of(body).size(), 1u);  // no line-by-line errors on top
}

TEST(OrderInput, QuantitiesAreWholeNumbersFromOneTo999) {
  json body = valid_order();
  for (const json& bad : {json(0), json(-1), json(1000), json(2.5), json("2"), json(nullptr),
                          json(18446744073709551615ull)}) {
    body["items"][0]["quantity"] = bad;
    EXPECT_EQ(fields_of(errors_of(body)), (std::vector<std::string>{"items[0].quantity"}))
        << bad.dump();
  }
  body["items"][0]["quantity"] = 1000;
  EXPECT_EQ(message_of(body, "items[0].quantity"), "must be between 1 and 999");
  body["items"][0]["quantity"] = 1.0;
  EXPECT_EQ(message_of(body, "items[0].quantity"), "must be a whole number");
  body["items"][0].erase("quantity");
  EXPECT_EQ(message_of(body, "items[0].quantity"), "is required");
}

TEST(OrderInput, ProductIdsAreOneTo64Characters) {
  json body = valid_order();
  body["items"][0]["product_id"] = std::string(64, 'p');
  EXPECT_TRUE(errors_of(body).empty());
  for (const json& bad : {json(std::string(65, 'p')), json(""), json(12), json("a\nb")}) {
    body["items"][0]["product_id"] = bad;
    EXPECT_EQ(fields_of(errors_of(body)), (std::vector<std::string>{"items[0].product_id"}))
        << bad.dump();
  }
}

TEST(OrderInput, AProductOnTwoLinesIsRefusedOnTheLaterLine) {
  json body = valid_order();
  body["items"].push_back({{"product_id", "prod_1"}, {"quantity", 1}});
  EXPECT_EQ(fields_of(errors_of(body)), (std::vector<std::string>{"items[2].product_id"}));
  EXPECT_EQ(message_of(body, "items[2].product_id"),
            "repeats items[0]; order a product on one line with the total quantity");
}

TEST(OrderInput, LinesAreReturnedOnlyWhenAllAreValid) {
  json body = valid_order();
  body["items"][1]["quantity"] = 0;
  std::vector<FieldError> errors;
  ro::OrderInput input = ro::read_order_input(body, errors);
  EXPECT_FALSE(errors.empty());
  EXPECT_TRUE(input.items.empty());
}

TEST(OrderInput, AddressFieldsAreBounded) {
  json body = valid_order();
  auto& address = body["shipping_address"];
  address["name"] = std::string(200, 'n');
  address["line1"] = std::string(200, 'l');
  address["line2"] = std::string(200, 'l');
  address["city"] = std::string(100, 'c');
  address["postal_code"] = std::string(20, '0');
  address["phone"] = std::string(32, '1');
  EXPECT_TRUE(errors_of(body).empty());
  // Characters, not bytes: 200 Hangul syllables are 600 bytes.
  std::string hangul;
  for (int i = 0; i < 200; ++i) hangul += "가";
  address["name"] = hangul;
  EXPECT_TRUE(errors_of(body).empty());
  address["name"] = std::string(201, 'n');
  address["line1"] = std::string(201, 'l');
  address["line2"] = std::string(201, 'l');
  address["city"] = std::string(101, 'c');
  address["postal_code"] = std::string(21, '0');
  address["phone"] = std::string(33, '1');
  EXPECT_EQ(fields_of(errors_of(body)),
            (std::vector<std::string>{"shipping_address.name", "shipping_address.line1",
                                      "shipping_address.line2", "shipping_address.city",
                                      "shipping_address.postal_code", "shipping_address.phone"}));
  EXPECT_EQ(message_of(body, "shipping_address.city"), "must be at most 100 characters");
}

TEST(OrderInput, AddressLinesAreSingleLines) {
  json body = valid_order();
  body["shipping_address"]["line1"] = "first\nsecond";
  EXPECT_EQ(message_of(body, "shipping_address.line1"), "must not contain control characters");
}

TEST(OrderInput, CountriesAreIso3166Alpha2Codes) {
  json body = valid_order();
  for (const char* good : {"KR", "US", "GB", "DE", "JP", "AD", "ZW", "XK"}) {
    body["shipping_address"]["country"] = good;
    EXPECT_TRUE(errors_of(body).empty()) << good;
  }
  for (const json& bad : {json("kr"), json("KOR"), json("K"), json(""), json("XX"), json("UK"),
                          json("ZZ"), json(82)}) {
    body["shipping_address"]["country"] = bad;
    EXPECT_EQ(message_of(body, "shipping_address.country"),
              "must be an ISO 3166-1 alpha-2 country code in capitals, e.g. KR")
        << bad.dump();
  }
}

TEST(OrderInput, TheCountryTableIsSortedAndWhole) {
  const std::string_view codes = ro::kCountryCodes;
  ASSERT_EQ(codes.size() % 2, 0u);
  EXPECT_EQ(codes.size() / 2, 250u);  // 249 assigned + XK
  for (std::size_t i = 2; i < codes.size(); i += 2) {
    EXPECT_LT(codes.substr(i - 2, 2), codes.substr(i, 2)) << i;
  }
  for (std::size_t i = 0; i < codes.size(); i += 2) {
    EXPECT_TRUE(ro::is_country_code(codes.substr(i, 2))) << codes.substr(i, 2);
  }
}

TEST(OrderInput, PhonesHoldDigitsSpacesAndPunctuation) {
  EXPECT_TRUE(ro::is_phone_number("+82 (10) 1234-5678"));
  EXPECT_TRUE(ro::is_phone_number("01012345678"));
  EXPECT_FALSE(ro::is_phone_number("+82 10 1234 5678 ext. 9"));
  EXPECT_FALSE(ro::is_phone_number("+-()"));
  json body = valid_order();
  body["shipping_address"]["phone"] = "010.1234.5678";
  EXPECT_EQ(message_of(body, "shipping_address.phone"), "may hold only digits, spaces and + - ( )");
}

TEST(OrderInput, ExternalIdsAreOneTo64CharactersOnOneLine) {
  json body = valid_order();
  body["external_id"] = std::string(64, 'e');
  EXPECT_TRUE(errors_of(body).empty());
  body["external_id"] = nullptr;
  EXPECT_TRUE(errors_of(body).empty());
  for (const json& bad : {json(""), json(std::string(65, 'e')), json("a\tb"), json(7)}) {
    body["external_id"] = bad;
    EXPECT_EQ(fields_of(errors_of(body)), (std::vector<std::string>{"external_id"})) << bad.dump();
  }
}

TEST(OrderInput, MetadataIsCheckedAsAtCreation) {
  json body = valid_order();
  body["metadata"] = {{"gone", nullptr}};  // null deletes a key only in a PATCH
  EXPECT_EQ(fields_of(errors_of(body)), (std::vector<std::string>{"metadata.gone"}));
  body["metadata"] = json::array();
  EXPECT_EQ(fields_of(errors_of(body)), (std::vector<std::string>{"metadata"}));
  body["metadata"] = nullptr;
  std::vector<FieldError> errors;
  EXPECT_EQ(ro::read_order_input(body, errors).metadata, json::object());
  EXPECT_TRUE(errors.empty());
}

}  // namespace
