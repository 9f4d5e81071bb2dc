// The bodies of POST /v1/webhooks and PATCH /v1/webhooks/{id}: every problem named by field and
// listed at once, unknown members refused, the URL and filter checks asked of the injected
// EndpointChecks (the plugin passes the SSRF guard and validate_filters), and the guard's config
// hint pointed at this plugin's own key.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "plugins/routes_webhooks/endpoint_input.hpp"

namespace {

using json = nlohmann::json;
using portico::FieldError;
namespace rw = portico::routes_webhooks;

// A stand-in guard: refuses URLs containing "127.0.0.1", and filters other than "order.*",
// "order.created", "inventory.changed" and "*".
rw::EndpointChecks fake_checks(std::vector<std::string>* seen_urls = nullptr) {
  return {[seen_urls](const std::string& url) -> std::optional<std::string> {
            if (seen_urls) seen_urls->push_back(url);
            if (url.find("127.0.0.1") != std::string::npos) {
              return "127.0.0.1 is a loopback address; webhook targets must be public";
            }
            return std::nullopt;
          },
          [](const std::vector<std::string>& filters, const std::string& field) {
            std::vector<FieldError> errors;
            if (filters.empty()) errors.push_back({field, "must list at least one"});
            for (std::size_t i = 0; i < filters.size(); ++i) {
              const std::string& f = filters[i];
              if (f != "order.*" && f != "order.created" && f != "inventory.changed" && f != "*") {
                errors.push_back({field + "[" + std::to_string(i) + "]", "unknown event type"});
              }
            }
            return errors;
          }};
}

std::set<std::string> fields_of(const std::vector<FieldError>& errors) {
  std::set<std::string> fields;
  for (const auto& e : errors) fields.insert(e.field);
  return fields;
}

TEST(EndpointCreate, ReadsAValidBody) {
  std::vector<FieldError> errors;
  auto input = rw::read_endpoint_create(json{{"url", "https://hooks.example.com/portico"},
                                             {"events", {"order.*", "inventory.changed"}},
                                             {"description", "Order sync"},
                                             {"ed25519", true}},
                                        errors, fake_checks());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(input.url, "https://hooks.example.com/portico");
  EXPECT_EQ(input.events, (std::vector<std::string>{"order.*", "inventory.changed"}));
  EXPECT_EQ(input.description, "Order sync");
  EXPECT_TRUE(input.ed25519);
}

TEST(EndpointCreate, DescriptionAndEd25519AreOptional) {
  std::vector<FieldError> errors;
  auto input = rw::read_endpoint_create(
      json{{"url", "https://a.example/"}, {"events", {"*"}}, {"description", nullptr}}, errors,
      fake_checks());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(input.description, "");
  EXPECT_FALSE(input.ed25519);
}

TEST(EndpointCreate, DuplicateFiltersAreKeptOnce) {
  std::vector<FieldError> errors;
  auto input = rw::read_endpoint_create(
      json{{"url", "https://a.example/"}, {"events", {"order.*", "*", "order.*"}}}, errors,
      fake_checks());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(input.events, (std::vector<std::string>{"order.*", "*"}));
}

TEST(EndpointCreate, ListsEveryProblemAtOnce) {
  std::vector<FieldError> errors;
  rw::read_endpoint_create(json{{"url", 42},
                                {"events", {"order.*", "order.create"}},
                                {"description", std::string(501, 'x')},
                                {"ed25519", "yes"},
                                {"secret", "whsec_mine"}},
                           errors, fake_checks());
  EXPECT_EQ(fields_of(errors),
            (std::set<std::string>{"url", "events[1]", "description", "ed25519", "secret"}));
}

TEST(EndpointCreate, UrlAndEventsAreRequired) {
  std::vector<FieldError> errors;
  rw::read_endpoint_create(json::object(), errors, fake_checks());
  EXPECT_EQ(fields_of(errors), (std::set<std::string>{"url", "events"}));
}

TEST(EndpointCreate, AnEmptyEventListIsRefused) {
  std::vector<FieldError> errors;
  rw::read_endpoint_create(json{{"url", "https://a.example/"}, {"events", json::array()}}, errors,
                           fake_checks());
  EXPECT_EQ(fields_of(errors), (std::set<std::string>{"events"}));
}

TEST(EndpointCreate, EventsMustBeAnArrayOfShortStrings) {
  std::vector<FieldError> errors;
  rw::read_endpoint_create(json{{"url", "https://a.example/"}, {"events", "order.*"}}, errors,
                           fake_checks());
  EXPECT_EQ(fields_of(errors), (std::set<std::string>{"events"}));

  errors.clear();
  rw::read_endpoint_create(
      json{{"url", "https://a.example/"}, {"events", {"order.*", 7, std::string(65, 'a')}}}, errors,
      fake_checks());
  EXPECT_EQ(fields_of(errors), (std::set<std::string>{"events[1]", "events[2]"}));

  errors.clear();
  json many = json::array();
  for (int i = 0; i < 33; ++i) many.push_back("order.*");
  rw::read_endpoint_create(json{{"url", "https://a.example/"}, {"events", many}}, errors,
                           fake_checks());
  EXPECT_EQ(fields_of(errors), (std::set<std::string>{"events"}));
}

TEST(EndpointCreate, TheUrlCheckSpeaksForTheUrlField) {
  std::vector<FieldError> errors;
  std::vector<std::string> seen;
  rw::read_endpoint_create(json{{"url", "http://127.0.0.1/hook"}, {"events", {"*"}}}, errors,
                           fake_checks(&seen));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "url");
  EXPECT_EQ(errors[0].message, "127.0.0.1 is a loopback address; webhook targets must be public");
  EXPECT_EQ(seen, (std::vector<std::string>{"http://127.0.0.1/hook"}));
}

TEST(EndpointCreate, AMalformedUrlIsNotHandedToTheGuard) {
  std::vector<FieldError> errors;
  std::vector<std::string> seen;
  rw::read_endpoint_create(json{{"url", ""}, {"events", {"*"}}}, errors, fake_checks(&seen));
  rw::read_endpoint_create(json{{"url", "https://a.example/\nb"}, {"events", {"*"}}}, errors,
                           fake_checks(&seen));
  rw::read_endpoint_create(json{{"url", std::string(2049, 'a')}, {"events", {"*"}}}, errors,
                           fake_checks(&seen));
  EXPECT_EQ(errors.size(), 3u);
  EXPECT_TRUE(seen.empty());
}

TEST(EndpointPatch, ReadsEachField) {
  std::vector<FieldError> errors;
  auto patch = rw::read_endpoint_patch(json{{"url", "https://b.example/x"},
                                            {"events", {"order.created"}},
                                            {"description", "new"},
                                            {"status", "disabled"},
                                            {"ed25519", false}},
                                       errors, fake_checks());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(patch.url, "https://b.example/x");
  EXPECT_EQ(patch.events, (std::vector<std::string>{"order.created"}));
  EXPECT_EQ(patch.description, "new");
  EXPECT_EQ(patch.status, "disabled");
  EXPECT_EQ(patch.ed25519, false);
}

TEST(EndpointPatch, AbsentFieldsStayUnset) {
  std::vector<FieldError> errors;
  auto patch = rw::read_endpoint_patch(json{{"status", "enabled"}}, errors, fake_checks());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(patch.status, "enabled");
  EXPECT_FALSE(patch.url || patch.events || patch.description || patch.ed25519);
}

TEST(EndpointPatch, NullDescriptionClearsIt) {
  std::vector<FieldError> errors;
  auto patch = rw::read_endpoint_patch(json{{"description", nullptr}}, errors, fake_checks());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(patch.description, "");
}

TEST(EndpointPatch, RefusesAnEmptyBodyAndEveryBadField) {
  std::vector<FieldError> errors;
  rw::read_endpoint_patch(json::object(), errors, fake_checks());
  EXPECT_EQ(fields_of(errors), (std::set<std::string>{"body"}));

  errors.clear();
  rw::read_endpoint_patch(json{{"url", nullptr},
                               {"events", nullptr},
                               {"status", "paused"},
                               {"ed25519", 1},
                               {"secret", "x"}},
                          errors, fake_checks());
  EXPECT_EQ(fields_of(errors),
            (std::set<std::string>{"url", "events", "status", "ed25519", "secret"}));

  errors.clear();
  rw::read_endpoint_patch(json{{"url", "http://127.0.0.1/"}, {"events", json::array()}}, errors,
                          fake_checks());
  EXPECT_EQ(fields_of(errors), (std::set<std::string>{"url", "events"}));

  errors.clear();
  rw::read_endpoint_patch(json{{"status", nullptr}}, errors, fake_checks());
  EXPECT_EQ(fields_of(errors), (std::set<std::string>{"status"}));
}

TEST(EndpointInput, TheGuardsHintNamesThisPluginsKey) {
  EXPECT_EQ(rw::with_own_config_hint(
                "localhost resolves to 127.0.0.1, a loopback address; webhook targets must be "
                "public (or set plugins.webhook_delivery.allow_private_targets = true)"),
            "localhost resolves to 127.0.0.1, a loopback address; webhook targets must be public "
            "(or set plugins.routes_webhooks.allow_private_targets = true)");
  EXPECT_EQ(rw::with_own_config_hint("the URL must use http or https"),
            "the URL must use http or https");
}

}  // namespace
