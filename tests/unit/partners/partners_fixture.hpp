// A partners module on a real SQLite file in a scratch directory, with a settable clock, and a
// helper that asserts the problem a call throws.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/partners/admin_routes.hpp"
#include "core/partners/key_directory.hpp"
#include "core/partners/migrations.hpp"
#include "core/partners/partner_service.hpp"
#include "core/pipeline/problems.hpp"
#include "core/storage/migrations.hpp"
#include "core/storage/sqlite_database.hpp"
#include "core/util/time.hpp"
#include "portico/problem.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::partners::testing {

using json = nlohmann::json;

inline const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";

class PartnersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db = storage::open_sqlite({.path = db_path().string()});
    storage::apply_migrations(*db, kMigrationOwner, partners_migrations());
    keys = std::make_shared<KeyDirectory>(db, KeyHasher(kSecret), clock());
    keys->load();
    service = std::make_shared<PartnerService>(
        db, keys,
        [] {
          return std::vector<std::string>{"basic", "premium"};
        },
        clock());
  }

  std::filesystem::path db_path() const { return dir / "portico.db"; }
  Clock clock() {
    return [this] { return now; };
  }
  void advance(std::chrono::seconds s) { now += s; }

  json create_partner(const std::string& name = "Acme", const std::string& tier = "basic",
                      json extra = json::object()) {
    json body = {{"name", name}, {"tier", tier}};
    body.update(extra);
    return service->create_partner(body);
  }
  json issue_key(const std::string& partner_id, json body = json::object()) {
    return service->issue_key(partner_id, body);
  }
  // A fresh directory loaded from the database, as after a restart.
  std::shared_ptr<KeyDirectory> reloaded_directory() {
    auto fresh = std::make_shared<KeyDirectory>(db, KeyHasher(kSecret), clock());
    fresh->load();
    return fresh;
  }

  test::TempDir dir;
  std::shared_ptr<Database> db;
  std::shared_ptr<KeyDirectory> keys;
  std::shared_ptr<PartnerService> service;
  TimePoint now = *util::parse_rfc3339("2026-11-26T10:00:00Z");
};

// The partners admin routes, dispatched in-process the way the admin API does.
class AdminRoutesTest : public PartnersTest {
 protected:
  void SetUp() override {
    PartnersTest::SetUp();
    add_partner_admin_routes(router, service);
  }

  // Match, captures, handler, problems rendered once.
  Response call(const std::string& method, const std::string& target,
                const std::string& body = "") {
    Request request;
    request.method = method;
    request.target = target;
    auto q = target.find('?');
    request.path = target.substr(0, q);
    request.query = q == std::string::npos ? "" : target.substr(q + 1);
    request.body = body;
    request.request_id = "req_test";
    auto match = router.match(request.method, request.path, request.path_params);
    if (!match.entry) {
      return pipeline::problem_response(
          match.allowed_methods.empty()
              ? pipeline::route_not_found(method, request.path)
              : pipeline::method_not_allowed(method, match.allowed_methods),
          request.request_id);
    }
    EXPECT_TRUE(match.entry->route.authenticated) << "admin routes are behind the admin token";
    try {
      return match.entry->route.handler(request);
    } catch (const ProblemError& e) {
      return pipeline::problem_response(e.problem(), request.request_id);
    }
  }
  static json body_of(const Response& response) { return json::parse(response.body); }

  pipeline::Router router;
};

// The problem `call` throws; fails the test when it throws none.
inline Problem problem_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const ProblemError& e) {
    return e.problem();
  }
  ADD_FAILURE() << "expected a ProblemError";
  return {};
}

inline std::vector<std::string> fields_of(const Problem& problem) {
  std::vector<std::string> fields;
  for (const auto& e : problem.errors) fields.push_back(e.field);
  return fields;
}

inline std::string message_for(const Problem& problem, const std::string& field) {
  for (const auto& e : problem.errors) {
    if (e.field == field) return e.message;
  }
  return "<no error for " + field + ">";
}

}  // namespace portico::partners::testing
