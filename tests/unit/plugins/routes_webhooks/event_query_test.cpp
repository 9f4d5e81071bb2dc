// The events API's query (type lists with patterns, created_since in the outbox's whole-second
// form, the 30-day window) and the attempt log's query (event_id), with the filter keys cursors
// are bound to.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "plugins/routes_webhooks/event_query.hpp"

namespace {

using portico::FieldError;
namespace rw = portico::routes_webhooks;
namespace sdk = portico::sdk;

std::chrono::system_clock::time_point at(const char* text) {
  return std::chrono::system_clock::time_point(sdk::parse_timestamp(text)->time_since_epoch());
}

std::vector<FieldError> errors_of(const std::string& query) {
  std::vector<FieldError> errors;
  rw::parse_event_list_query(query, errors);
  return errors;
}

TEST(EventWindow, WholeSecondsRoundDown) {
  EXPECT_EQ(rw::whole_seconds(*sdk::parse_timestamp("2026-11-26T10:00:00.999Z")),
            "2026-11-26T10:00:00Z");
  EXPECT_EQ(rw::whole_seconds(*sdk::parse_timestamp("2026-11-26T19:30:05+09:00")),
            "2026-11-26T10:30:05Z");
  EXPECT_EQ(rw::whole_seconds(at("2026-11-26T10:00:00.001Z")), "2026-11-26T10:00:00Z");
}

TEST(EventWindow, ReachesBackThirtyDays) {
  const auto now = at("2026-11-26T10:00:00.500Z");
  EXPECT_EQ(rw::window_start(now), "2026-10-27T10:00:00Z");
  EXPECT_TRUE(rw::inside_window("2026-10-27T10:00:00Z", now));
  EXPECT_TRUE(rw::inside_window("2026-11-26T10:00:00Z", now));
  EXPECT_FALSE(rw::inside_window("2026-10-27T09:59:59Z", now));
}

TEST(EventQuery, DefaultsToEveryTypeOfTheWindow) {
  std::vector<FieldError> errors;
  auto q = rw::parse_event_list_query("", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(q.limit, 20);
  EXPECT_TRUE(q.types.empty());
  EXPECT_FALSE(q.created_since || q.cursor);
  EXPECT_EQ(q.effective_since(at("2026-11-26T10:00:00Z")), "2026-10-27T10:00:00Z");
}

TEST(EventQuery, TypesAreExactTypesOrPatternsSortedAndUnique) {
  std::vector<FieldError> errors;
  auto q = rw::parse_event_list_query(
      "type=order.shipped,%20inventory.changed,order.shipped&limit=5&cursor=abc", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(q.types, (std::vector<std::string>{"inventory.changed", "order.shipped"}));
  EXPECT_EQ(q.limit, 5);
  EXPECT_EQ(q.cursor, "abc");

  q = rw::parse_event_list_query("type=order.*", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(q.types,
            (std::vector<std::string>{"order.cancelled", "order.created", "order.delivered",
                                      "order.shipped", "order.status_changed"}));

  q = rw::parse_event_list_query("type=webhook.test", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(q.types, (std::vector<std::string>{"webhook.test"}));
}

TEST(EventQuery, UnknownTypesAreNamedWithAHint) {
  auto errors = errors_of("type=order.created,order.shiped");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "type");
  EXPECT_NE(errors[0].message.find("'order.shiped'"), std::string::npos) << errors[0].message;
  EXPECT_NE(errors[0].message.find("did you mean 'order.shipped'"), std::string::npos)
      << errors[0].message;

  EXPECT_EQ(errors_of("type=").size(), 1u);
  EXPECT_EQ(errors_of("type=order.created,,order.shipped").size(), 1u);
  EXPECT_EQ(errors_of("type=refund.*").size(), 1u);
  EXPECT_EQ(errors_of("type=ORDER.CREATED").size(), 1u);  // case-sensitive
  EXPECT_EQ(errors_of("type=a,b").size(), 2u);
  std::string many = "type=order.created";
  for (int i = 0; i < 40; ++i) many += ",order.created";
  EXPECT_EQ(errors_of(many).size(), 1u);
}

TEST(EventQuery, CreatedSinceIsConvertedToTheOutboxForm) {
  std::vector<FieldError> errors;
  auto q = rw::parse_event_list_query("created_since=2026-11-26T19:00:00.750%2B09:00", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(q.created_since, "2026-11-26T10:00:00Z");

  auto bad = errors_of("created_since=yesterday");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].field, "created_since");
}

TEST(EventQuery, CreatedSinceNeverReachesBeforeTheWindow) {
  std::vector<FieldError> errors;
  const auto now = at("2026-11-26T10:00:00Z");
  auto old = rw::parse_event_list_query("created_since=2020-01-01T00:00:00Z", errors);
  EXPECT_EQ(old.effective_since(now), "2026-10-27T10:00:00Z");
  auto recent = rw::parse_event_list_query("created_since=2026-11-20T00:00:00Z", errors);
  EXPECT_EQ(recent.effective_since(now), "2026-11-20T00:00:00Z");
  EXPECT_TRUE(errors.empty());
}

TEST(EventQuery, RefusesUnknownAndRepeatedParameters) {
  auto errors = errors_of("types=order.created&limit=0&type=order.created&type=order.shipped");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].field, "types");
  EXPECT_NE(errors[0].message.find("did you mean 'type'"), std::string::npos);
  EXPECT_EQ(errors[1].field, "limit");
  EXPECT_EQ(errors[2].field, "type");
}

TEST(EventQuery, TheFilterKeyFollowsTheFilters) {
  std::vector<FieldError> errors;
  auto a = rw::parse_event_list_query("type=order.*", errors);
  auto b = rw::parse_event_list_query(
      "type=order.created,order.status_changed,order.cancelled,order.shipped,order.delivered",
      errors);
  auto c = rw::parse_event_list_query("type=order.created", errors);
  auto d =
      rw::parse_event_list_query("type=order.created&created_since=2026-11-01T00:00:00Z", errors);
  auto e = rw::parse_event_list_query("type=order.created&limit=3", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(a.filter_key(), b.filter_key());  // the same types, however spelled
  EXPECT_NE(a.filter_key(), c.filter_key());
  EXPECT_NE(c.filter_key(), d.filter_key());
  EXPECT_EQ(c.filter_key(), e.filter_key());  // the page size may change while paging
}

TEST(DeliveryQuery, ReadsAnEventIdFilter) {
  std::vector<FieldError> errors;
  auto q = rw::parse_delivery_list_query("event_id=evt_abc123&limit=2", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(q.event_id, "evt_abc123");
  EXPECT_EQ(q.limit, 2);

  rw::parse_delivery_list_query("event_id=ord_abc", errors);
  rw::parse_delivery_list_query("event_id=evt_", errors);
  rw::parse_delivery_list_query("event_id=evt_a'b", errors);
  rw::parse_delivery_list_query("status=failed", errors);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].field, "event_id");
  EXPECT_EQ(errors[3].field, "status");
}

TEST(DeliveryQuery, CursorsAreBoundToTheEndpointAndTheFilter) {
  rw::DeliveryListQuery plain, filtered;
  filtered.event_id = "evt_1";
  EXPECT_NE(plain.filter_key("we_a"), plain.filter_key("we_b"));
  EXPECT_NE(plain.filter_key("we_a"), filtered.filter_key("we_a"));
  EXPECT_EQ(plain.filter_key("we_a"), plain.filter_key("we_a"));
}

}  // namespace
