// GET /v1/orders query checking: defaults, the three filters, every problem named by parameter,
// the filter key a cursor is bound to, and the "created_at|id" keyset position.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugins/routes_orders/order_query.hpp"

namespace {

using portico::FieldError;
using portico::routes_orders::decode_order_position;
using portico::routes_orders::encode_order_position;
using portico::routes_orders::OrderListQuery;
using portico::routes_orders::parse_order_list_query;

std::vector<FieldError> errors_of(const std::string& query) {
  std::vector<FieldError> errors;
  parse_order_list_query(query, errors);
  return errors;
}

TEST(OrderQuery, DefaultsToTwentyWithNoFilters) {
  std::vector<FieldError> errors;
  OrderListQuery q = parse_order_list_query("", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(q.limit, 20);
  EXPECT_FALSE(q.cursor || q.status || q.created_since || q.external_id);
}

TEST(OrderQuery, ReadsEveryFilter) {
  std::vector<FieldError> errors;
  OrderListQuery q = parse_order_list_query(
      "status=confirmed&created_since=2026-11-26T09:00:00%2B09:00&external_id=PO%2F2026-001"
      "&limit=100&cursor=abc",
      errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(q.status, "confirmed");
  EXPECT_EQ(q.created_since, "2026-11-26T00:00:00.000Z");  // UTC, fixed width: compares as text
  EXPECT_EQ(q.external_id, "PO/2026-001");
  EXPECT_EQ(q.limit, 100);
  EXPECT_EQ(q.cursor, "abc");
}

TEST(OrderQuery, AcceptsEveryStatusOfTheMachine) {
  for (const char* status : {"pending", "confirmed", "shipped", "delivered", "cancelled"}) {
    std::vector<FieldError> errors;
    EXPECT_EQ(parse_order_list_query(std::string("status=") + status, errors).status, status);
    EXPECT_TRUE(errors.empty()) << status;
  }
}

TEST(OrderQuery, NamesEveryBadParameter) {
  auto errors = errors_of(
      "status=open&created_since=last+week&external_id=&limit=0&cursor=&sort=asc&statsu=x");
  ASSERT_EQ(errors.size(), 7u);
  EXPECT_EQ(errors[0].field, "status");
  EXPECT_EQ(errors[0].message,
            "must be one of \"pending\", \"confirmed\", \"shipped\", \"delivered\", "
            "\"cancelled\"");
  EXPECT_EQ(errors[1].field, "created_since");
  EXPECT_EQ(errors[2].field, "external_id");
  EXPECT_EQ(errors[3].field, "limit");
  EXPECT_EQ(errors[4].field, "cursor");
  EXPECT_EQ(errors[5].field, "sort");
  EXPECT_EQ(errors[5].message,
            "is not a known query parameter (known: limit, cursor, status, created_since, "
            "external_id)");
  EXPECT_EQ(errors[6].field, "statsu");
  EXPECT_EQ(errors[6].message, "is not a known query parameter; did you mean 'status'?");
}

TEST(OrderQuery, RefusesStatusCaseVariantsRepeatsAndLongExternalIds) {
  EXPECT_EQ(errors_of("status=Pending").at(0).field, "status");
  auto repeated = errors_of("status=pending&status=shipped");
  ASSERT_EQ(repeated.size(), 1u);
  EXPECT_EQ(repeated[0].message, "is given more than once");
  EXPECT_EQ(errors_of("external_id=" + std::string(256, 'x')).at(0).field, "external_id");
  EXPECT_TRUE(errors_of("external_id=" + std::string(255, 'x')).empty());
  EXPECT_EQ(errors_of("created_since=2026-11-26").at(0).field, "created_since");
}

TEST(OrderQuery, TheFilterKeyChangesWithEveryFilterButNotWithLimitOrCursor) {
  std::vector<FieldError> errors;
  auto key = [&](const std::string& query) {
    return parse_order_list_query(query, errors).filter_key();
  };
  EXPECT_EQ(key(""), key("limit=5&cursor=abc"));
  EXPECT_NE(key(""), key("status=pending"));
  EXPECT_NE(key("status=pending"), key("status=shipped"));
  EXPECT_NE(key("status=pending"), key("external_id=pending"));
  EXPECT_NE(key(""), key("created_since=2026-01-01T00:00:00Z"));
  // The same instant in two spellings is the same filter.
  EXPECT_EQ(key("created_since=2026-01-01T09:00:00%2B09:00"),
            key("created_since=2026-01-01T00:00:00Z"));
  EXPECT_TRUE(errors.empty());
}

TEST(OrderQuery, PositionsRoundTrip) {
  const std::string text = encode_order_position("2026-11-26T10:00:00.123Z", "ord_abc");
  EXPECT_EQ(text, "2026-11-26T10:00:00.123Z|ord_abc");
  auto position = decode_order_position(text);
  ASSERT_TRUE(position);
  EXPECT_EQ(position->created_at, "2026-11-26T10:00:00.123Z");
  EXPECT_EQ(position->id, "ord_abc");
  for (const char* bad : {"", "no-bar", "|ord_abc", "2026-11-26T10:00:00.123Z|"}) {
    EXPECT_FALSE(decode_order_position(bad)) << bad;
  }
}

}  // namespace
