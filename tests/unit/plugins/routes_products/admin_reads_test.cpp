// The operator's reads of the catalog (issue 20): GET /admin/v1/products/{id} — the product with
// its stock per warehouse and both updated_at — and GET /admin/v1/products, which shares the
// partner list's query checks, cursors and page answer (list_query.hpp). The routes are driven
// through the built routes_products.so on the SDK's fake host, with a scripted database that
// answers the catalog's statements and records them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "plugins/routes_products/catalog_records.hpp"
#include "plugins/routes_products/list_query.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/testing.hpp"
#include "tests/unit/plugins/routes_products/built_catalog.hpp"

namespace {

using json = nlohmann::json;
using portico::FieldError;
using portico::ProblemError;
namespace rp = portico::routes_products;
namespace sdk = portico::sdk;

// --- the operator's view of one product ---------------------------------------------------------

rp::Product earbuds() {
  rp::Product p;
  p.id = "prod_0001";
  p.sku = "AUD-0001";
  p.name = "무선 이어폰 / Wireless Earbuds 12";
  p.category = "audio";
  p.price = {129000, "KRW"};
  p.status = "inactive";
  p.updated_at = "2026-11-26T10:00:00.000Z";
  return p;
}

TEST(AdminProductJson, IsThePartnerDetailWithStockPerWarehouseAndBothUpdatedAt) {
  std::vector<rp::WarehouseStock> stock = {{"icn-1", 10, 2, "2026-11-26T10:30:00.000Z"},
                                           {"pus-1", 5, 0, "2026-11-26T11:00:00.000Z"}};
  json admin = rp::plain(rp::admin_product_json(earbuds(), stock));
  EXPECT_EQ(admin["updated_at"], "2026-11-26T10:00:00.000Z");  // the product's own fields
  EXPECT_EQ(admin["status"], "inactive");
  EXPECT_EQ(admin["inventory"], (json{{"available", 15},
                                      {"reserved", 2},
                                      {"warehouses",
                                       {{{"id", "icn-1"}, {"available", 10}, {"reserved", 2}},
                                        {{"id", "pus-1"}, {"available", 5}, {"reserved", 0}}}},
                                      {"updated_at", "2026-11-26T11:00:00.000Z"}}));  // stock
  // Everything the partner detail says, said the same way.
  json partner = rp::plain(rp::product_with_inventory_json(earbuds(), rp::totals_of(stock)));
  for (const auto& [field, value] : partner.items()) {
    if (field != "inventory") {
      EXPECT_EQ(admin[field], value) << field;
    }
  }
  EXPECT_EQ(admin["inventory"]["available"], partner["inventory"]["available"]);
  EXPECT_EQ(admin["inventory"]["reserved"], partner["inventory"]["reserved"]);
  // Members in the contract's order, inventory last.
  std::string text = rp::admin_product_json(earbuds(), stock).dump();
  EXPECT_EQ(text.rfind("{\"id\":\"prod_0001\"", 0), 0u);
  EXPECT_LT(text.find("\"updated_at\":\"2026-11-26T10:00"), text.find("\"inventory\""));
}

TEST(AdminProductJson, WithoutStockRowsListsNoWarehouseAndNoStockChange) {
  json admin = rp::plain(rp::admin_product_json(earbuds(), {}));
  EXPECT_EQ(admin["inventory"], (json{{"available", 0},
                                      {"reserved", 0},
                                      {"warehouses", json::array()},
                                      {"updated_at", nullptr}}));
}

// --- the list request and page both lists share
// ---------------------------------------------------

sdk::MacFunction keyed(std::string key) {
  return [key](std::string_view message) {
    std::string tag;
    std::size_t h = std::hash<std::string>{}(key + std::string(message));
    for (int round = 0; round < 4; ++round) {
      h = std::hash<std::string>{}(key + std::to_string(h) + std::string(message));
      for (int i = 0; i < 8; ++i) tag.push_back(static_cast<char>((h >> (8 * i)) & 0xFF));
    }
    return tag;
  };
}

std::vector<FieldError> refused(const std::string& raw, const sdk::CursorCodec& cursors) {
  try {
    rp::read_list_request(raw, cursors);
  } catch (const ProblemError& e) {
    EXPECT_EQ(e.problem().status, 400) << raw;
    EXPECT_EQ(e.problem().code, "invalid_request") << raw;
    return e.problem().errors;
  }
  ADD_FAILURE() << raw << " was accepted";
  return {};
}

TEST(ListRequest, ReadsTheFiltersAndTheCursorsPosition) {
  const sdk::CursorCodec cursors(keyed("k"));
  rp::ListRequest first = rp::read_list_request("status=inactive&limit=2", cursors);
  EXPECT_EQ(first.query.status, "inactive");
  EXPECT_EQ(first.query.limit, 2);
  EXPECT_EQ(first.after, "");
  std::string cursor = cursors.encode("prod_0002", first.query.filter_key());
  rp::ListRequest next = rp::read_list_request("status=inactive&limit=2&cursor=" + cursor, cursors);
  EXPECT_EQ(next.after, "prod_0002");
}

TEST(ListRequest, RefusesEveryBadParameterAtOnceNamingIt) {
  const sdk::CursorCodec cursors(keyed("k"));
  auto errors = refused("status=deleted&limit=0&sort=name", cursors);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].field, "status");
  EXPECT_EQ(errors[1].field, "limit");
  EXPECT_EQ(errors[2].field, "sort");

  rp::ListQuery audio_query;
  audio_query.category = "audio";
  std::string audio = cursors.encode("prod_0002", audio_query.filter_key());
  auto other = refused("category=home&cursor=" + audio, cursors);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].field, "cursor");
  EXPECT_EQ(other[0].message,
            "was issued for other filters; keep category, status, q and updated_since the same "
            "while paging");
  const sdk::CursorCodec other_key(keyed("another gateway"));
  auto forged = refused("category=audio&cursor=" + audio, other_key);
  ASSERT_EQ(forged.size(), 1u);
  EXPECT_EQ(forged[0].message, "is not a cursor this API issued; use next_cursor as given");
}

TEST(ListPage, OneRowMoreThanTheLimitMeansANextPageFromTheLastIdShown) {
  const sdk::CursorCodec cursors(keyed("k"));
  rp::ListQuery query;
  query.limit = 2;
  query.category = "audio";
  std::vector<rp::ProductView> rows(3);
  rows[0].product.id = "a";
  rows[1].product.id = "b";
  rows[2].product.id = "c";
  auto id_only = [](const rp::ProductView& v) { return nlohmann::ordered_json(v.product.id); };
  json page = rp::plain(rp::list_page_json(rows, query, cursors, id_only));
  EXPECT_EQ(page["data"], (json{"a", "b"}));
  EXPECT_EQ(page["has_more"], true);
  auto position = cursors.decode(page["next_cursor"].get<std::string>(), query.filter_key());
  EXPECT_EQ(std::get<std::string>(position), "b");

  rows.pop_back();
  json last = rp::plain(rp::list_page_json(rows, query, cursors, id_only));
  EXPECT_EQ(last["data"], (json{"a", "b"}));
  EXPECT_EQ(last["has_more"], false);
  EXPECT_TRUE(last["next_cursor"].is_null());
}

// --- the routes of the built plugin
// ---------------------------------------------------------------

using portico::Params;
using portico::Row;
using portico::Rows;
using portico::Value;

// One stock row of the catalog's view statement (product columns, stamp, warehouse columns).
Row view_row(const std::string& id, const std::string& status, Value warehouse, Value available,
             Value reserved, Value stock_updated_at) {
  static const auto columns =
      std::make_shared<const std::vector<std::string>>(std::vector<std::string>{
          "id", "sku", "name", "description", "category", "price_amount", "currency", "status",
          "attributes", "updated_at", "version", "stock_version", "warehouse_id", "available",
          "reserved", "updated_at"});
  return Row(columns, {id, "SKU-" + id, "Name " + id, "", "audio", std::int64_t{1000}, "KRW",
                       status, nullptr, "2026-11-26T10:00:00.000Z", std::int64_t{1},
                       std::int64_t{1}, std::move(warehouse), std::move(available),
                       std::move(reserved), std::move(stock_updated_at)});
}

// Answers the cursor key's statements itself and each catalog read with the rows a test queued;
// records every statement. Writes are refused: the reads must not write.
class ScriptedDatabase final : public routes_products_test::CatalogReads {
 public:
  struct Statement {
    std::string sql;
    Params params;
  };

  Rows next_rows;
  std::vector<Statement> statements;

 protected:
  Rows read(std::string_view sql, const Params& params) override {
    statements.push_back({std::string(sql), params});
    return std::exchange(next_rows, {});
  }
};

class AdminProductRoutes : public ::testing::Test,
                           protected routes_products_test::BuiltCatalog<ScriptedDatabase> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(load_catalog());
    list = route("GET", "/admin/v1/products");
    detail = route("GET", "/admin/v1/products/{id}");
  }

  portico::Response get(const portico::Route& route, const std::string& query,
                        const std::string& id = "") {
    portico::Request request;
    request.method = "GET";
    request.path = id.empty() ? route.path : "/admin/v1/products/" + id;
    request.query = query;
    request.target = request.path + (query.empty() ? "" : "?" + query);
    if (!id.empty()) request.path_params["id"] = id;
    return sdk::testing::call(route, request, host);
  }
  portico::Problem problem_of(const portico::Route& route, const std::string& query,
                              const std::string& id = "") {
    try {
      auto response = get(route, query, id);
      ADD_FAILURE() << "answered " << response.status << ": " << response.body;
    } catch (const ProblemError& e) {
      return e.problem();
    }
    return {};
  }

  portico::Route list, detail;
};

TEST_F(AdminProductRoutes, BothAreAdminRoutesBehindTheAdminToken) {
  ASSERT_TRUE(list.handler) << "GET /admin/v1/products is not registered";
  ASSERT_TRUE(detail.handler) << "GET /admin/v1/products/{id} is not registered";
  for (const auto* route : {&list, &detail}) {
    EXPECT_TRUE(route->admin) << route->path;
    EXPECT_EQ(route->scope, "") << route->path;
  }
}

TEST_F(AdminProductRoutes, DetailShowsStockPerWarehouseInOneStatement) {
  ASSERT_TRUE(detail.handler);
  db->next_rows = {
      view_row("prod_1", "inactive", "icn-1", std::int64_t{4}, std::int64_t{1},
               "2026-11-26T11:00:00.000Z"),
      view_row("prod_1", "inactive", "pus-1", std::int64_t{7}, std::int64_t{0},
               "2026-11-26T12:00:00.000Z"),
  };
  auto response = get(detail, "", "prod_1");
  EXPECT_EQ(response.status, 200);
  json body = json::parse(response.body);
  EXPECT_EQ(body["id"], "prod_1");
  EXPECT_EQ(body["status"], "inactive");
  EXPECT_EQ(body["updated_at"], "2026-11-26T10:00:00.000Z");
  EXPECT_EQ(body["inventory"], (json{{"available", 11},
                                     {"reserved", 1},
                                     {"warehouses",
                                      {{{"id", "icn-1"}, {"available", 4}, {"reserved", 1}},
                                       {{"id", "pus-1"}, {"available", 7}, {"reserved", 0}}}},
                                     {"updated_at", "2026-11-26T12:00:00.000Z"}}));
  ASSERT_EQ(db->statements.size(), 1u);
  EXPECT_NE(db->statements[0].sql.find("LEFT JOIN stock"), std::string::npos);
  EXPECT_EQ(db->statements[0].params, (Params{std::string("prod_1")}));
}

TEST_F(AdminProductRoutes, UnknownIdIs404AndAMalformedOne400NamingIt) {
  ASSERT_TRUE(detail.handler);
  auto unknown = problem_of(detail, "", "prod_9999");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.code, "not_found");
  EXPECT_EQ(unknown.detail, "No product with id 'prod_9999'.");

  db->statements.clear();
  auto malformed = problem_of(detail, "", "bad%20id");
  EXPECT_EQ(malformed.status, 400);
  ASSERT_EQ(malformed.errors.size(), 1u);
  EXPECT_EQ(malformed.errors[0].field, "id");
  EXPECT_TRUE(db->statements.empty()) << "no lookup for an id that cannot exist";
}

TEST_F(AdminProductRoutes, ListFiltersPagesAndShowsWarehouses) {
  ASSERT_TRUE(list.handler);
  db->next_rows = {
      view_row("prod_1", "inactive", "icn-1", std::int64_t{4}, std::int64_t{0},
               "2026-11-26T11:00:00.000Z"),
      view_row("prod_2", "inactive", nullptr, nullptr, nullptr, nullptr),  // no stock yet
  };
  auto first = get(list, "status=inactive&limit=1");
  EXPECT_EQ(first.status, 200);
  json page = json::parse(first.body);
  ASSERT_EQ(page["data"].size(), 1u);
  EXPECT_EQ(page["data"][0]["id"], "prod_1");
  EXPECT_EQ(page["data"][0]["inventory"]["warehouses"],
            (json{{{"id", "icn-1"}, {"available", 4}, {"reserved", 0}}}));
  EXPECT_EQ(page["has_more"], true);
  ASSERT_TRUE(page["next_cursor"].is_string());
  ASSERT_EQ(db->statements.size(), 1u);
  EXPECT_NE(db->statements[0].sql.find("p.status = ?"), std::string::npos);
  EXPECT_EQ(db->statements[0].params,
            (Params{std::string(""), std::string("inactive"), std::int64_t{2}}));

  db->next_rows = {view_row("prod_2", "inactive", nullptr, nullptr, nullptr, nullptr)};
  auto second =
      get(list, "status=inactive&limit=1&cursor=" + page["next_cursor"].get<std::string>());
  json rest = json::parse(second.body);
  ASSERT_EQ(rest["data"].size(), 1u);
  EXPECT_EQ(rest["data"][0]["inventory"]["warehouses"], json::array());
  EXPECT_TRUE(rest["data"][0]["inventory"]["updated_at"].is_null());
  EXPECT_EQ(rest["has_more"], false);
  EXPECT_TRUE(rest["next_cursor"].is_null());
  EXPECT_EQ(db->statements.back().params.front(), Value(std::string("prod_1")));
}

TEST_F(AdminProductRoutes, ListRefusesWhatThePartnerListRefusesBeforeAnyQuery) {
  ASSERT_TRUE(list.handler);
  for (auto [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"status=deleted", "status"},
           {"limit=101", "limit"},
           {"updated_since=yesterday", "updated_since"},
           {"categroy=audio", "categroy"},
           {"cursor=bm90LWEtY3Vyc29y", "cursor"}}) {
    auto problem = problem_of(list, query);
    EXPECT_EQ(problem.status, 400) << query;
    EXPECT_EQ(problem.code, "invalid_request") << query;
    ASSERT_FALSE(problem.errors.empty()) << query;
    EXPECT_EQ(problem.errors[0].field, field) << query;
  }
  EXPECT_TRUE(db->statements.empty());
}

}  // namespace
