// The partner routes (scope products:read): the list with keyset cursors and filters, the detail
// with its inventory summary, and the inventory per warehouse. Every answer carries a strong ETag;
// If-None-Match answers 304 with the ETag and no body (the core then refunds the rate limit).
#include <string>
#include <vector>

#include "portico/sdk/routes.hpp"
#include "catalog_context.hpp"
#include "list_query.hpp"
#include "portico/sdk/etag.hpp"
#include "portico/sdk/problems.hpp"
#include "product_input.hpp"

namespace portico::routes_products {
namespace {

constexpr const char* kScope = "products:read";

// 200 with the body, or 304 when the caller already holds this representation.
Response conditional(const Request& request, const std::string& body, const std::string& etag) {
  Response response;
  response.set_header("ETag", etag);
  // Real-time stock: caches may keep the body but must revalidate it on every use.
  response.set_header("Cache-Control", "private, no-cache");
  auto if_none_match = request.header("If-None-Match");
  if (if_none_match && sdk::if_none_match_hits(*if_none_match, etag)) {
    response.status = 304;
    return response;
  }
  response.status = 200;
  response.body = body;
  return response;
}

std::shared_ptr<const RenderedProduct> existing(CatalogContext& context, const Request& request) {
  const std::string& id = request.param("id");
  // Ids are restricted to [A-Za-z0-9_-]: anything else cannot exist, no lookup needed.
  auto rendered = is_valid_id(id) ? context.reads.current(id) : nullptr;
  if (!rendered) throw sdk::not_found("No product with id '" + id + "'.");
  return rendered;
}

Response list(CatalogContext& context, const Request& request) {
  ListRequest list = read_list_request(request.query, context.cursors);
  std::vector<ListedProduct> rows = context.store.list(
      list.query, list.after, list.query.limit + 1);  // one more: is there a next page?
  auto item = [](const ListedProduct& row) {
    return product_with_inventory_json(row.product, row.totals);
  };
  std::string text = list_page_json(std::move(rows), list.query, context.cursors, item).dump();
  return conditional(request, text, sdk::strong_etag(text));
}

}  // namespace

// A product's detail or inventory: answered on the I/O thread when the cached rendering is current
// (nothing written since it was cached — the common case, no query), otherwise on the worker
// pool, which may ask the database.
Route detail_route(std::string path, CatalogContext* c, std::string RenderedProduct::*body,
                   std::string RenderedProduct::*etag) {
  return sdk::async_route(
      "GET", std::move(path), kScope, [c, body, etag](const Request& r, Reply reply) {
        const std::string& id = r.param("id");
        if (auto hit = is_valid_id(id) ? c->reads.cached(id) : nullptr) {
          return reply.run([&] { return conditional(r, (*hit).*body, (*hit).*etag); });
        }
        c->workers.post([c, body, etag, &r, reply] {
          reply.run([&] {
            auto rendered = existing(*c, r);
            return conditional(r, (*rendered).*body, (*rendered).*etag);
          });
        });
      });
}

std::vector<Route> partner_routes(CatalogContext& context) {
  CatalogContext* c = &context;
  return {
      sdk::route("GET", "/v1/products", kScope, [c](const Request& r) { return list(*c, r); }),
      detail_route("/v1/products/{id}", c, &RenderedProduct::detail_body,
                   &RenderedProduct::detail_etag),
      detail_route("/v1/products/{id}/inventory", c, &RenderedProduct::inventory_body,
                   &RenderedProduct::inventory_etag),
  };
}

}  // namespace portico::routes_products
