// Bodies of the order updates: PATCH /v1/orders/{id}, POST /admin/v1/orders/{id}/status and
// POST /admin/v1/orders/{id}/shipment, each problem named by field.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugins/routes_orders/update_input.hpp"

namespace {

using nlohmann::json;
using portico::FieldError;
using portico::ProblemError;
namespace ro = portico::routes_orders;

std::vector<FieldError> patch_errors(const json& body) {
  std::vector<FieldError> errors;
  ro::read_order_patch(body, errors);
  return errors;
}

std::vector<FieldError> shipment_errors(const json& body) {
  std::vector<FieldError> errors;
  ro::read_shipment_update(body, errors);
  return errors;
}

// --- PATCH /v1/orders/{id} -------------------------------------------------------------------

TEST(OrderPatch, ReadsStatusAndMetadata) {
  std::vector<FieldError> errors;
  auto patch = ro::read_order_patch(
      json{{"status", "cancelled"}, {"metadata", {{"note", "gift"}, {"old", nullptr}}}}, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(patch.status, "cancelled");
  ASSERT_TRUE(patch.metadata);
  EXPECT_EQ((*patch.metadata)["note"], "gift");
  EXPECT_TRUE((*patch.metadata)["old"].is_null());  // null deletes the key

  errors.clear();
  patch = ro::read_order_patch(json{{"metadata", json::object()}}, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(patch.status);
  EXPECT_TRUE(patch.metadata);
}

TEST(OrderPatch, KeepsAnyStatusNameForTheRouteToJudge) {
  // Moving forward is refused with 409 invalid_transition by the route, not 400 here.
  for (const char* status : {"pending", "confirmed", "shipped", "delivered"}) {
    std::vector<FieldError> errors;
    EXPECT_EQ(ro::read_order_patch(json{{"status", status}}, errors).status, status);
    EXPECT_TRUE(errors.empty());
  }
}

TEST(OrderPatch, RefusesEmptyUnknownAndMalformedMembers) {
  auto empty = patch_errors(json::object());
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].field, "body");

  auto unknown = patch_errors(json{{"status", "cancelled"}, {"shipping_address", "x"}});
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].field, "shipping_address");
  EXPECT_EQ(unknown[0].message, "is not a known field");

  auto not_status = patch_errors(json{{"status", "canceled"}});
  ASSERT_EQ(not_status.size(), 1u);
  EXPECT_EQ(not_status[0].field, "status");
  EXPECT_EQ(not_status[0].message, "must be \"cancelled\" (the only status a partner sets)");

  EXPECT_EQ(patch_errors(json{{"status", 3}}).at(0).field, "status");
  EXPECT_EQ(patch_errors(json{{"status", nullptr}}).at(0).field, "status");
  EXPECT_EQ(patch_errors(json{{"metadata", "x"}}).at(0).field, "metadata");
  EXPECT_EQ(patch_errors(json{{"metadata", {{"n", 5}}}}).at(0).field, "metadata.n");
  EXPECT_EQ(patch_errors(json{{"metadata", {{"k", std::string(501, 'v')}}}}).at(0).field,
            "metadata.k");
  EXPECT_EQ(patch_errors(json::array()).at(0).field, "body");
}

TEST(OrderPatch, MetadataMayNotGrowPastFiftyKeys) {
  json merged = json::object();
  for (int i = 0; i < 50; ++i) merged["k" + std::to_string(i)] = "v";
  EXPECT_FALSE(ro::merged_metadata_problem(merged));
  merged["one_more"] = "v";
  auto problem = ro::merged_metadata_problem(merged);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->field, "metadata");
  EXPECT_NE(problem->message.find("would have 51 keys"), std::string::npos);
}

// --- POST /admin/v1/orders/{id}/status -------------------------------------------------------

TEST(StatusUpdate, NeedsOneKnownStatus) {
  std::vector<FieldError> errors;
  EXPECT_EQ(ro::read_status_update(json{{"status", "delivered"}}, errors).status, "delivered");
  EXPECT_TRUE(errors.empty());

  for (const json& body : {json::object(), json{{"status", nullptr}}}) {
    std::vector<FieldError> e;
    ro::read_status_update(body, e);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].field, "status");
    EXPECT_EQ(e[0].message, "is required");
  }
  for (const json& body : {json{{"status", "lost"}}, json{{"status", 1}}}) {
    std::vector<FieldError> e;
    ro::read_status_update(body, e);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].field, "status");
    EXPECT_NE(e[0].message.find("\"confirmed\""), std::string::npos);
  }
  std::vector<FieldError> e;
  ro::read_status_update(json{{"status", "confirmed"}, {"reason", "x"}}, e);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].field, "reason");
}

// --- POST /admin/v1/orders/{id}/shipment -----------------------------------------------------

TEST(ShipmentUpdate, ReadsCarrierTrackingAndNormalizedEvents) {
  std::vector<FieldError> errors;
  auto update = ro::read_shipment_update(
      json{{"carrier", "CJ Logistics"},
           {"tracking_number", "6849-1234-5678"},
           {"events",
            {{{"status", "picked_up"}, {"at", "2026-11-26T10:00:00+09:00"}},
             {{"status", "in_hub"}, {"description", "Arrived\nat hub"}, {"location", "Seoul"}}}}},
      errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(update.carrier, "CJ Logistics");
  EXPECT_EQ(update.tracking_number, "6849-1234-5678");
  ASSERT_TRUE(update.events);
  ASSERT_EQ(update.events->size(), 2u);
  const json& first = (*update.events)[0];
  EXPECT_EQ(first["status"], "picked_up");
  EXPECT_TRUE(first["description"].is_null());
  EXPECT_TRUE(first["location"].is_null());
  EXPECT_EQ(first["at"], "2026-11-26T01:00:00.000Z");
  const json& second = (*update.events)[1];
  EXPECT_EQ(second["description"], "Arrived\nat hub");
  EXPECT_EQ(second["location"], "Seoul");
  EXPECT_TRUE(second["at"].is_null());  // filled in by complete_tracking_events

  errors.clear();
  EXPECT_FALSE(
      ro::read_shipment_update(json{{"carrier", "c"}, {"tracking_number", "t"}}, errors).events);
  EXPECT_TRUE(errors.empty());
}

TEST(ShipmentUpdate, NamesEveryProblem) {
  auto errors = shipment_errors(json{{"carrier", ""},
                                     {"tracking_number", std::string(101, '9')},
                                     {"colour", "red"},
                                     {"events",
                                      {{{"status", ""}},
                                       "picked_up",
                                       {{"status", "x"}, {"at", "tomorrow"}, {"where", "here"}},
                                       {{"status", std::string(65, 's')},
                                        {"description", std::string(501, 'd')},
                                        {"location", std::string(201, 'l')}}}}});
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"colour", "carrier", "tracking_number",
                                              "events[0].status", "events[1]", "events[2].where",
                                              "events[2].at", "events[3].status",
                                              "events[3].description", "events[3].location"}));

  auto missing = shipment_errors(json::object());
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0].field, "carrier");
  EXPECT_EQ(missing[0].message, "is required");
  EXPECT_EQ(missing[1].field, "tracking_number");

  EXPECT_EQ(shipment_errors(json{{"carrier", "c"}, {"tracking_number", "t"}, {"events", "x"}})
                .at(0)
                .field,
            "events");
  json many = json::array();
  for (int i = 0; i < 101; ++i) many.push_back({{"status", "s"}});
  auto too_many =
      shipment_errors(json{{"carrier", "c"}, {"tracking_number", "t"}, {"events", many}});
  ASSERT_EQ(too_many.size(), 1u);
  EXPECT_EQ(too_many[0].field, "events");
  many.erase(100);
  EXPECT_TRUE(
      shipment_errors(json{{"carrier", "c"}, {"tracking_number", "t"}, {"events", many}}).empty());
  EXPECT_EQ(shipment_errors(json{{"carrier", "line\nbreak"}, {"tracking_number", "t"}}).at(0).field,
            "carrier");
}

TEST(ShipmentUpdate, EventsWithoutATimeGetNowOrTheirStoredTime) {
  const json previous = json::array({
      {{"status", "picked_up"},
       {"description", nullptr},
       {"location", nullptr},
       {"at", "2026-11-26T01:00:00.000Z"}},
      {{"status", "in_hub"},
       {"description", nullptr},
       {"location", "Seoul"},
       {"at", "2026-11-26T05:00:00.000Z"}},
  });
  const json given = json::array({
      {{"status", "picked_up"}, {"description", nullptr}, {"location", nullptr}, {"at", nullptr}},
      {{"status", "in_hub"}, {"description", nullptr}, {"location", "Busan"}, {"at", nullptr}},
      {{"status", "out"},
       {"description", nullptr},
       {"location", nullptr},
       {"at", "2026-11-27T00:00:00.000Z"}},
      {{"status", "late"}, {"description", nullptr}, {"location", nullptr}, {"at", nullptr}},
  });
  const std::string now = "2026-11-28T00:00:00.000Z";
  json done = ro::complete_tracking_events(given, previous, now);
  EXPECT_EQ(done[0]["at"], "2026-11-26T01:00:00.000Z");  // the same event as stored: its time
  EXPECT_EQ(done[1]["at"], now);                         // changed: a new event
  EXPECT_EQ(done[2]["at"], "2026-11-27T00:00:00.000Z");  // given
  EXPECT_EQ(done[3]["at"], now);                         // nothing stored there
  // Posting the completed events again changes nothing (idempotent).
  EXPECT_EQ(ro::complete_tracking_events(done, done, "2030-01-01T00:00:00.000Z"), done);
}

}  // namespace
