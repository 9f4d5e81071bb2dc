// The partner routes (scope products:read): the list with keyset cursors and filters, the detail
// with its inventory summary, and the inventory per warehouse. Every answer carries a strong ETag;
// If-None-Match answers 304 with the ETag and no body (the core then refunds the rate limit).
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "portico/sdk/routes.hpp"
#include "catalog_context.hpp"
#include "list_query.hpp"
#include "portico/sdk/problems.hpp"
#include "product_input.hpp"

namespace portico::routes_products {
namespace {

constexpr const char* kScope = "products:read";

std::shared_ptr<const RenderedProduct> existing(CatalogContext& context, const Request& request) {
  const std::string& id = request.param("id");
  // Ids are restricted to [A-Za-z0-9_-]: anything else cannot exist, no lookup needed.
  auto rendered = is_valid_id(id) ? context.reads.current(id) : nullptr;
  if (!rendered) throw sdk::not_found("No product with id '" + id + "'.");
  return rendered;
}

// The page `list` asks for, from the database: one statement (so one snapshot), one row more than
// the limit to tell whether there is a next page.
std::shared_ptr<const ListPage> query_page(CatalogContext& context, const ListRequest& list) {
  std::vector<ListedProduct> rows =
      context.store.list(list.query, list.after, list.query.limit + 1);
  auto item = [](const ListedProduct& row) {
    return product_with_inventory_json(row.product, row.totals);
  };
  return std::make_shared<const ListPage>(
      list_page_json(std::move(rows), list.query, context.cursors, item).dump());
}

}  // namespace

// A product's detail or inventory: answered on the I/O thread when the cached rendering is current
// (nothing written since it was cached — the common case, no query), otherwise on the worker
// pool, which may ask the database.
Route detail_route(std::string path, CatalogContext* c, Representation RenderedProduct::*shown) {
  return sdk::now_or_later_route(
      "GET", std::move(path), kScope,
      [c, shown](const Request& r) -> std::optional<Answer> {
        const std::string& id = r.param("id");
        auto hit = is_valid_id(id) ? c->reads.cached(id) : nullptr;
        if (!hit) return std::nullopt;
        const Representation& representation = (*hit).*shown;
        return representation.answer(r, std::move(hit));
      },
      [c, shown](const Request& r, Reply reply) {
        c->workers.post([c, shown, &r, reply] {
          reply.run([&] { return ((*existing(*c, r)).*shown).answer(r); });
        });
      });
}

// The list: checked on the I/O thread (a bad query is answered from there, as a 400 naming the
// parameter), then answered from memory when the same page was queried and nothing was written
// since (list_cache.hpp), otherwise queried on the worker pool, cached and answered. A miss reads
// the query twice (now, then later): a few hundred instructions beside the database's work.
Route list_route(CatalogContext* c) {
  auto now = [c](const Request& r) -> std::optional<Answer> {
    const ListRequest list = read_list_request(r.query, c->cursors);  // its ProblemError: a 400
    auto hit = c->list_pages.find(ListPageCache::key_of(list), c->store.write_generation());
    if (!hit) return std::nullopt;
    const ListPage& page = *hit;
    return page.answer(r, std::move(hit));
  };
  auto later = [c](const Request& r, Reply reply) {
    ListRequest list;
    try {
      list = read_list_request(r.query, c->cursors);
    } catch (...) {
      return reply.fail(std::current_exception());
    }
    std::string key = ListPageCache::key_of(list);
    // `r` stays valid in the task: the pipeline keeps the request until `reply` is answered.
    c->workers.post([c, &r, reply, list = std::move(list), key = std::move(key)] {
      if (reply.cancelled()) return;  // timed out or the client left while it waited for a worker
      reply.run([&] {
        // Read again, right before the query: a page stored with it is stale the moment anything
        // is written, even during the query. A page another worker stored meanwhile (many
        // readers missed together after a write) spares this one the query.
        const std::uint64_t generation = c->store.write_generation();
        auto page = c->list_pages.find(key, generation);
        if (!page) {
          page = query_page(*c, list);
          c->list_pages.store(key, page, generation);
        }
        return page->answer(r);
      });
    });
  };
  return sdk::now_or_later_route("GET", "/v1/products", kScope, std::move(now), std::move(later));
}

std::vector<Route> partner_routes(CatalogContext& context) {
  CatalogContext* c = &context;
  return {
      list_route(c),
      detail_route("/v1/products/{id}", c, &RenderedProduct::detail),
      detail_route("/v1/products/{id}/inventory", c, &RenderedProduct::inventory),
  };
}

}  // namespace portico::routes_products
