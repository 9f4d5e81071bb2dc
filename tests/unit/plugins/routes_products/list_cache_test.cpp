// GET /v1/products answered from memory (list_cache.hpp): a page is served only at the write
// generation read before it was queried, keyed by the checked request rather than its raw text,
// within a bound. Then the route of the built plugin on the SDK's fake host, over a scripted
// database whose write generation the test moves: a hit answers on the calling thread without a
// query, a write makes the next request query again, 304s and 400s are answered as before.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugins/routes_products/list_cache.hpp"
#include "plugins/routes_products/list_query.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/testing.hpp"
#include "tests/unit/plugins/routes_products/built_catalog.hpp"

namespace {

using json = nlohmann::json;
using portico::ProblemError;
namespace rp = portico::routes_products;
namespace sdk = portico::sdk;

std::shared_ptr<const rp::ListPage> page(std::string body) {
  return std::make_shared<const rp::ListPage>(std::move(body));
}

// --- the cache -------------------------------------------------------------------------------

TEST(ListPageCache, ServesAPageOnlyAtTheGenerationItWasQueriedAt) {
  rp::ListPageCache cache;
  EXPECT_EQ(cache.find("k", 7), nullptr);
  cache.store("k", page("p7"), 7);
  ASSERT_NE(cache.find("k", 7), nullptr);
  EXPECT_EQ(cache.find("k", 7)->body(), "p7");
  EXPECT_EQ(cache.find("k", 7)->body(), "p7") << "a hit leaves the page in place";
  EXPECT_EQ(cache.find("k", 8), nullptr) << "something was written since";
  EXPECT_EQ(cache.find("k", 7), nullptr) << "an outdated page is dropped, not kept";
  cache.store("k", page("p8"), 8);
  EXPECT_EQ(cache.find("k", 8)->body(), "p8");
}

TEST(ListPageCache, APageQueriedBeforeTheLatestWriteIsNeverServed) {
  rp::ListPageCache cache;
  // Generation 4 read, then a write (now 5) landed while the page was queried: the page may or
  // may not show it, so it must not be served at 5.
  cache.store("k", page("maybe stale"), 4);
  EXPECT_EQ(cache.find("k", 5), nullptr);
  // A slower reader (read 4) finishing after a faster one (read 5) does not replace its page.
  cache.store("k", page("fresh"), 5);
  cache.store("k", page("late"), 4);
  ASSERT_NE(cache.find("k", 5), nullptr);
  EXPECT_EQ(cache.find("k", 5)->body(), "fresh");
}

TEST(ListPageCache, DistinctKeysAreDistinctPages) {
  rp::ListPageCache cache;
  cache.store("a", page("A"), 1);
  cache.store("b", page("B"), 1);
  EXPECT_EQ(cache.find("a", 1)->body(), "A");
  EXPECT_EQ(cache.find("b", 1)->body(), "B");
  EXPECT_EQ(cache.find("c", 1), nullptr);
}

TEST(ListPageCache, StaysWithinItsBoundAndEvictsTheLeastRecentlyRead) {
  rp::ListPageCache cache(64 * 16);
  ASSERT_EQ(cache.capacity(), 1024u);
  cache.store("hot", page("hot"), 1);
  for (int i = 0; i < 20000; ++i) {
    cache.store("q" + std::to_string(i), page("x"), 1);
    ASSERT_NE(cache.find("hot", 1), nullptr) << "a page in use is evicted last (store " << i << ")";
  }
  EXPECT_LE(cache.size(), cache.capacity());
  EXPECT_EQ(cache.find("q0", 1), nullptr) << "the oldest unread pages made room";
  EXPECT_NE(cache.find("q19999", 1), nullptr);
  // Lookups of pages nobody stored (hostile distinct queries) do not grow it either.
  for (int i = 0; i < 20000; ++i) cache.find("missing" + std::to_string(i), 1);
  EXPECT_LE(cache.size(), cache.capacity());
  EXPECT_NE(cache.find("hot", 1), nullptr);
}

// Every kept page is charged its size: the pages never take more than the budget, whatever keys
// a caller makes up; a page that does not fit is refused (and answered uncached by the route);
// bytes come back when a page is replaced, outdated, evicted or swept.
TEST(ListPageCache, KeptPagesStayWithinTheirByteBudget) {
  const std::size_t each = rp::ListPageCache::charge_of(*page(std::string(1000, 'x')));
  rp::ListPageCache cache(1024, 40 * each);
  EXPECT_EQ(cache.bytes(), 0u);
  int kept = 0;
  for (int i = 0; i < 100; ++i) {
    if (cache.store("q" + std::to_string(i), page(std::string(1000, 'x')), 1)) ++kept;
    ASSERT_LE(cache.bytes(), cache.max_bytes());
  }
  EXPECT_EQ(kept, 40);
  EXPECT_EQ(cache.bytes(), 40 * each);
  EXPECT_NE(cache.find("q0", 1), nullptr);
  EXPECT_EQ(cache.find("q99", 1), nullptr) << "refused: no room left";

  // Replacing a page gives its bytes back before charging the new one.
  EXPECT_TRUE(cache.store("q0", page(std::string(1000, 'y')), 1));
  EXPECT_EQ(cache.bytes(), 40 * each);
  // An outdated page found is dropped, with its bytes.
  EXPECT_EQ(cache.find("q0", 2), nullptr);
  EXPECT_EQ(cache.bytes(), 39 * each);
  // The rest can never be served again (generation 2 was seen): the shards' sweeps drop them as
  // the cache goes on being used, and the budget is free for new pages.
  for (int i = 0; i < 20000; ++i) cache.find("other" + std::to_string(i), 2);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_TRUE(cache.store("new", page(std::string(1000, 'z')), 2));
  EXPECT_EQ(cache.bytes(), each);
}

TEST(ListPageCache, APageOverAnEighthOfTheBudgetIsNeverKept) {
  rp::ListPageCache cache(1024, 80000);
  EXPECT_FALSE(cache.store("big", page(std::string(10001, 'x')), 1));
  EXPECT_EQ(cache.find("big", 1), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_TRUE(cache.store("small", page(std::string(100, 'x')), 1));
}

TEST(ListPageCache, EvictedPagesGiveTheirBytesBack) {
  rp::ListPageCache cache(64 * 16);
  const std::size_t each = rp::ListPageCache::charge_of(*page("x"));
  for (int i = 0; i < 20000; ++i) cache.store("q" + std::to_string(i), page("x"), 1);
  EXPECT_EQ(cache.bytes(), cache.size() * each);
  EXPECT_LE(cache.size(), cache.capacity());
}

// --- the key: the request as checked, not its text --------------------------------------------

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

std::string key_of(const std::string& raw, const sdk::CursorCodec& cursors) {
  return rp::ListPageCache::key_of(rp::read_list_request(raw, cursors));
}

TEST(ListPageKey, IsTheSameExactlyForRequestsForTheSamePage) {
  const sdk::CursorCodec cursors(keyed("k"));
  const std::string plain = key_of("limit=20", cursors);
  for (std::string same : {"", "limit=20&", "&limit=20", "limit=20&&"}) {
    EXPECT_EQ(key_of(same, cursors), plain) << same;
  }
  EXPECT_EQ(key_of("category=audio&limit=5&status=active", cursors),
            key_of("status=active&limit=5&category=audio", cursors));
  EXPECT_EQ(key_of("updated_since=2026-11-26T09:00:00%2B09:00", cursors),
            key_of("updated_since=2026-11-26T00:00:00.000Z", cursors))
      << "the same moment, normalized";
  EXPECT_EQ(key_of("q=tea+black", cursors), key_of("q=tea%20black", cursors));

  std::vector<std::string> distinct = {
      plain,
      key_of("limit=21", cursors),
      key_of("category=audio", cursors),
      key_of("category=kitchen", cursors),
      key_of("status=active", cursors),
      key_of("status=inactive", cursors),
      key_of("q=audio", cursors),
      key_of("updated_since=2026-11-26T00:00:00Z", cursors),
      key_of("cursor=" + cursors.encode("prod_0020", rp::ListQuery{}.filter_key()), cursors),
      key_of("cursor=" + cursors.encode("prod_0040", rp::ListQuery{}.filter_key()), cursors),
  };
  for (std::size_t i = 0; i < distinct.size(); ++i) {
    for (std::size_t j = i + 1; j < distinct.size(); ++j) {
      EXPECT_NE(distinct[i], distinct[j]) << i << " and " << j;
    }
  }
}

TEST(ListPageKey, FilterValuesHoldingSeparatorsDoNotMeet) {
  // Values holding filter_key()'s separator (U+001F): these two wrote the same filter text before
  // its values were escaped (sdk::append_filter); neither that text nor the page key meets now.
  rp::ListRequest a, b;
  a.query.category = "a\x1f-\x1f=b";
  b.query.category = "a";
  b.query.q = "b\x1f-\x1f-";
  EXPECT_NE(a.query.filter_key(), b.query.filter_key());
  EXPECT_NE(rp::ListPageCache::key_of(a), rp::ListPageCache::key_of(b));
  rp::ListRequest c, d;
  c.after = "x|1:y";
  d.after = "x";
  d.query.category = "y";
  EXPECT_NE(rp::ListPageCache::key_of(c), rp::ListPageCache::key_of(d));
}

// --- the route of the built plugin ----------------------------------------------------------

std::string header(const portico::Response& response, std::string_view name) {
  return std::string(response.header(name).value_or("<none>"));
}

using portico::Params;
using portico::Row;
using portico::Rows;
using portico::Value;

// One row of the list statement: the product columns and the stock totals.
Row list_row(const std::string& id, std::int64_t price, std::int64_t available) {
  static const auto columns =
      std::make_shared<const std::vector<std::string>>(std::vector<std::string>{
          "id", "sku", "name", "description", "category", "price_amount", "currency", "status",
          "attributes", "updated_at", "available", "reserved"});
  return Row(columns, {id, "SKU-" + id, "Name " + id, "", "audio", price, "KRW", "active", nullptr,
                       "2026-11-26T10:00:00.000Z", available, std::int64_t{0}});
}

// Answers the cursor key's statements itself and every catalog read with `rows`; counts the
// reads. Its write generation is whatever the test sets: the test plays the writers.
class ListDatabase final : public routes_products_test::CatalogReads {
 public:
  std::uint64_t write_generation() const override { return generation; }

  Rows rows;
  int reads = 0;
  std::uint64_t generation = 1;
  bool write_during_reads = false;

 protected:
  Rows read(std::string_view, const Params&) override {
    ++reads;
    if (write_during_reads) ++generation;  // another thread's commit while this read ran
    return rows;
  }
};

class PartnerListRoute : public ::testing::Test,
                         protected routes_products_test::BuiltCatalog<ListDatabase> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(load_catalog());
    list = route("GET", "/v1/products");
    ASSERT_TRUE(list.async_handler) << "GET /v1/products is not asynchronous";
    db->rows = {list_row("prod_1", 1000, 5), list_row("prod_2", 2000, 6)};
  }

  portico::Request request(const std::string& query, const std::string& if_none_match = "") {
    portico::Request r;
    r.method = "GET";
    r.path = "/v1/products";
    r.query = query;
    r.target = r.path + (query.empty() ? "" : "?" + query);
    if (!if_none_match.empty()) r.headers.emplace_back("If-None-Match", if_none_match);
    return r;
  }

  // What the route answered, filled in whenever it answers (a task on the worker pool may answer
  // after at_once() returned).
  struct Answer {
    std::optional<portico::Response> response;
    std::exception_ptr error;
  };
  // Calls the route as the core does, on "this" (the I/O) thread, without running the worker pool:
  // `response` or `error` is set when it answered at once, neither when it waits for a worker.
  // `r` must outlive the queued tasks.
  std::shared_ptr<Answer> at_once(const portico::Request& r) {
    auto answer = std::make_shared<Answer>();
    list.async_handler(r, portico::Reply(
                              [answer](portico::Answer&& given, std::exception_ptr error) {
                                if (error) {
                                  answer->error = std::move(error);
                                } else {
                                  answer->response = std::move(given).take();
                                }
                              },
                              std::make_shared<portico::CancelState>()));
    return answer;
  }
  // The answer, running the worker pool if the route asked for it.
  portico::Response get(const std::string& query, const std::string& if_none_match = "") {
    portico::Request r = request(query, if_none_match);
    return sdk::testing::call(list, r, host);
  }

  portico::Route list;
};

TEST_F(PartnerListRoute, AnUnchangedPageIsAnsweredOnTheCallingThreadWithoutAQuery) {
  auto first = get("limit=20");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(db->reads, 1);
  json body = json::parse(first.body);
  EXPECT_EQ(body["data"].size(), 2u);
  EXPECT_EQ(body["data"][1]["inventory"]["available"], 6);

  portico::Request again = request("limit=20");
  auto hit = at_once(again);
  ASSERT_TRUE(hit->response) << "a cached page waits for no worker";
  EXPECT_EQ(hit->response->status, 200);
  EXPECT_EQ(hit->response->body, first.body);
  EXPECT_EQ(header(*hit->response, "ETag"), header(first, "ETag"));
  EXPECT_EQ(header(*hit->response, "Cache-Control"), "private, no-cache");
  EXPECT_EQ(host.queued_workers().queued(), 0u);
  EXPECT_EQ(db->reads, 1);

  // The same request written differently is the same page; another limit is another page.
  portico::Request same = request("&limit=20&");
  EXPECT_TRUE(at_once(same)->response);
  portico::Request other = request("limit=1");
  auto missed = at_once(other);
  EXPECT_FALSE(missed->response || missed->error);
  EXPECT_EQ(host.queued_workers().run_all(), 1u);
  ASSERT_TRUE(missed->response);
  EXPECT_EQ(json::parse(missed->response->body)["data"].size(), 1u);
  EXPECT_EQ(db->reads, 2);
}

TEST_F(PartnerListRoute, AfterAWriteTheNextRequestQueriesAgainAndShowsIt) {
  auto before = get("");
  ASSERT_EQ(before.status, 200);
  db->rows = {list_row("prod_1", 1500, 5), list_row("prod_2", 2000, 4)};
  db->generation = 2;  // an admin update and a stock change were written
  portico::Request r = request("");
  auto answer = at_once(r);
  EXPECT_FALSE(answer->response) << "the cached page is outdated: it must not be served";
  host.queued_workers().run_all();
  EXPECT_EQ(db->reads, 2);
  ASSERT_TRUE(answer->response);
  json body = json::parse(answer->response->body);
  EXPECT_EQ(body["data"][0]["price"]["amount"], 1500);
  EXPECT_EQ(body["data"][1]["inventory"]["available"], 4);
  EXPECT_NE(header(*answer->response, "ETag"), header(before, "ETag"));
  EXPECT_EQ(get("").body, answer->response->body);
  EXPECT_EQ(db->reads, 2) << "the page queried at generation 2 is served from then on";
}

TEST_F(PartnerListRoute, APageQueriedWhileAWriteLandedIsNotServedAfterIt) {
  // A commit while the page is queried: the rows read may predate it, so the page is stored under
  // the generation read before the query and the next request queries again.
  db->write_during_reads = true;
  auto first = get("limit=5");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(db->generation, 2u);
  db->write_during_reads = false;
  portico::Request next = request("limit=5");
  auto answer = at_once(next);
  EXPECT_FALSE(answer->response) << "served a page that may predate the write";
  host.queued_workers().run_all();
  ASSERT_TRUE(answer->response);
  EXPECT_EQ(db->reads, 2);
  portico::Request third = request("limit=5");
  EXPECT_TRUE(at_once(third)->response) << "queried wholly at generation 2: current";
}

TEST_F(PartnerListRoute, IfNoneMatchAnswers304FromTheCache) {
  auto first = get("limit=5");
  std::string etag = header(first, "ETag");
  ASSERT_EQ(etag.front(), '"');
  portico::Request r = request("limit=5", etag);
  auto revalidated = at_once(r);
  ASSERT_TRUE(revalidated->response);
  EXPECT_EQ(revalidated->response->status, 304);
  EXPECT_TRUE(revalidated->response->body.empty());
  EXPECT_EQ(header(*revalidated->response, "ETag"), etag);
  EXPECT_EQ(get("limit=5", "\"other\"").status, 200);
  EXPECT_EQ(db->reads, 1);
}

TEST_F(PartnerListRoute, ABadQueryIs400NamingTheParameterBeforeAnyQuery) {
  for (auto [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"limit=0", "limit"},
                                                        {"status=deleted", "status"},
                                                        {"categroy=audio", "categroy"},
                                                        {"limit=20&limit=20", "limit"},
                                                        {"cursor=bm90LWEtY3Vyc29y", "cursor"}}) {
    portico::Request r = request(query);
    auto answer = at_once(r);
    ASSERT_TRUE(answer->error) << query << ": answered on the calling thread";
    try {
      std::rethrow_exception(answer->error);
    } catch (const ProblemError& e) {
      EXPECT_EQ(e.problem().status, 400) << query;
      EXPECT_EQ(e.problem().code, "invalid_request") << query;
      ASSERT_FALSE(e.problem().errors.empty()) << query;
      EXPECT_EQ(e.problem().errors[0].field, field) << query;
    }
  }
  EXPECT_EQ(host.queued_workers().queued(), 0u);
  EXPECT_EQ(db->reads, 0);
}

}  // namespace
