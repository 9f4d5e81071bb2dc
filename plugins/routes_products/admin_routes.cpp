// The operator routes on the admin listener (Route::admin, behind the admin token): list and read
// products with their stock per warehouse, import many, upsert one, set stock, adjust stock.
// Reads ask the database (one statement each, always current); bodies are checked in full before
// anything is written; every write puts its fresh rendering in the read cache before it answers.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog_context.hpp"
#include "list_query.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/routes.hpp"
#include "product_input.hpp"

namespace portico::routes_products {
namespace {

const std::string& path_id(const Request& request) {
  const std::string& id = request.param("id");
  if (!is_valid_id(id)) {
    throw sdk::invalid_request("Product ids are 1-64 letters, digits, '_' or '-'.",
                               {{"id", "is not a valid product id"}});
  }
  return id;
}

// GET /admin/v1/products: the partner list's query, filters, cursors and errors (list_query.hpp),
// every item the operator's view of the product (with its stock per warehouse).
Response list_products(CatalogContext& context, const Request& request) {
  ListRequest list = read_list_request(request.query, context.cursors);
  std::vector<ProductView> views = context.store.list_views(
      list.query, list.after, list.query.limit + 1);  // one more: is there a next page?
  auto item = [](const ProductView& view) { return admin_product_json(view.product, view.stock); };
  Response response;
  response.body = list_page_json(std::move(views), list.query, context.cursors, item).dump();
  return response;
}

// GET /admin/v1/products/{id}: the product with its stock per warehouse, read in one statement.
Response get_product(CatalogContext& context, const Request& request) {
  const std::string& id = path_id(request);
  std::optional<ProductView> view = context.store.view(id);
  if (!view) throw sdk::not_found("No product with id '" + id + "'.");
  Response response;
  response.body = admin_product_json(view->product, view->stock).dump();
  return response;
}

Response inventory_response(CatalogContext& context, const ProductView& view) {
  context.reads.remember(view);
  return Response::json(200, plain(inventory_json(view.product.id, view.stock)));
}

Response import_products(CatalogContext& context, const Request& request) {
  nlohmann::json body = sdk::parse_json_body(request, false);
  if (!body.is_array()) {
    throw sdk::invalid_request("The body must be a JSON array of products.",
                               {{"body", "must be an array"}});
  }
  if (body.size() > context.max_import_items) {
    throw sdk::invalid_request("At most " + std::to_string(context.max_import_items) +
                                   " products per import; split the "
                                   "file (portico catalog import does).",
                               {{"body", "has " + std::to_string(body.size()) + " items"}});
  }
  std::vector<FieldError> errors;
  std::vector<ProductInput> items;
  items.reserve(body.size());
  std::map<std::string, std::size_t> first_id, first_sku;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const std::string at = "[" + std::to_string(i) + "].";
    items.push_back(read_product(body[i], at, true, errors));
    const ProductInput& item = items.back();
    if (item.id && !first_id.emplace(*item.id, i).second) {
      errors.push_back({at + "id", "repeats item [" + std::to_string(first_id[*item.id]) + "]"});
    }
    if (!item.product.sku.empty() && !first_sku.emplace(item.product.sku, i).second) {
      errors.push_back(
          {at + "sku", "repeats item [" + std::to_string(first_sku[item.product.sku]) + "]"});
    }
  }
  sdk::refuse_invalid_fields(std::move(errors));

  ImportOutcome outcome = context.store.import_products(items);
  nlohmann::ordered_json ids = nlohmann::ordered_json::array();
  for (const auto& view : outcome.views) {
    context.reads.remember(view);
    ids.push_back(view.product.id);
  }
  nlohmann::ordered_json answer;
  answer["created"] = outcome.created;
  answer["updated"] = outcome.updated;
  answer["unchanged"] = outcome.unchanged;
  answer["inventory_changed"] = outcome.inventory_changed;
  answer["ids"] = std::move(ids);
  Response response;
  response.body = answer.dump();
  return response;
}

Response put_product(CatalogContext& context, const Request& request) {
  const std::string& id = path_id(request);
  nlohmann::json body = sdk::parse_json_body(request, false);
  std::vector<FieldError> errors;
  ProductInput input = read_product(body, "", false, errors);
  if (input.id && *input.id != id) errors.push_back({"id", "must match the id in the path"});
  sdk::refuse_invalid_fields(std::move(errors));
  PutOutcome outcome = context.store.put_product(id, input);
  context.reads.remember(outcome.view);
  Response response;
  response.status = outcome.created ? 201 : 200;
  response.body =
      product_with_inventory_json(outcome.view.product, totals_of(outcome.view.stock)).dump();
  return response;
}

Response set_stock(CatalogContext& context, const Request& request) {
  const std::string& id = path_id(request);
  nlohmann::json body = sdk::parse_json_body(request, false);
  std::vector<FieldError> errors;
  std::vector<StockSetting> settings = read_stock_settings(body, "", errors);
  sdk::refuse_invalid_fields(std::move(errors));
  return inventory_response(context, context.store.set_stock(id, settings));
}

Response adjust_stock(CatalogContext& context, const Request& request) {
  const std::string& id = path_id(request);
  nlohmann::json body = sdk::parse_json_body(request, false);
  std::vector<FieldError> errors;
  Adjustment adjustment = read_adjustment(body, errors);
  sdk::refuse_invalid_fields(std::move(errors));
  return inventory_response(context, context.store.adjust_stock(id, adjustment));
}

}  // namespace

std::vector<Route> admin_routes(CatalogContext& context) {
  CatalogContext* c = &context;
  const std::string base = "/admin/v1/products";
  return {
      sdk::admin_route("GET", base, [c](const Request& r) { return list_products(*c, r); }),
      sdk::admin_route("GET", base + "/{id}", [c](const Request& r) { return get_product(*c, r); }),
      sdk::admin_route("POST", base + "/import",
                       [c](const Request& r) { return import_products(*c, r); }),
      sdk::admin_route("PUT", base + "/{id}", [c](const Request& r) { return put_product(*c, r); }),
      sdk::admin_route("PUT", base + "/{id}/inventory",
                       [c](const Request& r) { return set_stock(*c, r); }),
      sdk::admin_route("POST", base + "/{id}/inventory/adjustments",
                       [c](const Request& r) { return adjust_stock(*c, r); }),
  };
}

}  // namespace portico::routes_products
