// Catalog reads: a product with its stock in one statement, its Stamp by primary key, and list
// pages by keyset on the immutable id (WHERE id > last ORDER BY id), so a walk during updates
// neither repeats nor skips a product that exists throughout. Also the cursor MAC key, made once
// per database.
#include "catalog_store.hpp"

#include "catalog_context.hpp"
#include "portico/sdk/sodium.hpp"

namespace portico::routes_products {
namespace {

constexpr const char* kProductColumns =
    "p.id, p.sku, p.name, p.description, p.category, p.price_amount, p.currency, p.status, "
    "p.attributes, p.updated_at";

Product product_from(const Row& row) {
  Product p;
  p.id = row.text(0);
  p.sku = row.text(1);
  p.name = row.text(2);
  p.description = row.text(3);
  p.category = row.text(4);
  p.price.amount = row.integer(5);
  p.price.currency = row.text(6);
  p.status = row.text(7);
  if (auto attributes = row.optional_text(8)) {
    p.attributes = nlohmann::json::parse(*attributes, nullptr, false);
    if (!p.attributes.is_object()) p.attributes = nullptr;
  }
  p.updated_at = row.text(9);
  return p;
}

// A product with its stamp and one stock row (NULLs when it has none), ordered by product id and
// warehouse id: what views_from() reads.
const std::string kViewColumns =
    std::string(kProductColumns) +
    ", p.version, p.stock_version, s.warehouse_id, s.available, s.reserved, s.updated_at";

// Rows of kViewColumns grouped into one view per product, in row order.
std::vector<ProductView> views_from(const Rows& rows) {
  std::vector<ProductView> views;
  for (const Row& row : rows) {
    if (views.empty() || views.back().product.id != row.text(0)) {
      ProductView& view = views.emplace_back();
      view.product = product_from(row);
      view.stamp = {row.integer(10), row.integer(11)};
    }
    if (row.is_null(12)) continue;  // no stock rows: one row of NULLs from the LEFT JOIN
    views.back().stock.push_back({row.text(12), row.integer(13), row.integer(14), row.text(15)});
  }
  return views;
}

// LIKE pattern for "contains": % and _ in the text are literal.
std::string contains_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

// " AND …" for each filter of the query, its parameters appended to `params`: the partner list
// and the operator list select with the same conditions. At most 16 texts (one per combination
// of filters) per statement, so the connection's statement cache stays small. `backend` is
// Database::backend_name(): the text search is spelled per backend.
std::string filter_conditions(const ListQuery& query, Params& params, const std::string& backend) {
  std::string sql;
  if (query.category) {
    sql += " AND p.category = ?";
    params.emplace_back(*query.category);
  }
  if (query.status) {
    sql += " AND p.status = ?";
    params.emplace_back(*query.status);
  }
  if (query.q) {
    // Case-insensitive for ASCII letters; Hangul has no case. SQLite's LIKE is; on PostgreSQL
    // ILIKE is, over the text of columns store_postgres keeps as bytes (docs/plugins.md).
    sql += backend == "postgres"
               ? " AND (convert_from(p.name, 'UTF8') ILIKE ? ESCAPE '\\'"
                 " OR convert_from(p.sku, 'UTF8') ILIKE ? ESCAPE '\\')"
               : " AND (p.name LIKE ? ESCAPE '\\' OR p.sku LIKE ? ESCAPE '\\')";
    params.emplace_back(contains_pattern(*query.q));
    params.emplace_back(contains_pattern(*query.q));
  }
  if (query.updated_since) {
    sql += " AND p.updated_at >= ?";
    params.emplace_back(*query.updated_since);
  }
  return sql;
}

}  // namespace

std::optional<ProductView> load_view(Session& session, std::string_view id) {
  // One statement: the product row and its stock rows come from the same snapshot.
  static const std::string sql = "SELECT " + kViewColumns +
                                 " FROM products p LEFT JOIN stock s ON s.product_id = p.id"
                                 " WHERE p.id = ? ORDER BY s.warehouse_id";
  std::vector<ProductView> views = views_from(session.query(sql, {std::string(id)}));
  if (views.empty()) return std::nullopt;
  return std::move(views.front());
}

std::optional<Stamp> CatalogStore::stamp(std::string_view id) const {
  Rows rows =
      db_.query("SELECT version, stock_version FROM products WHERE id = ?", {std::string(id)});
  if (rows.empty()) return std::nullopt;
  return Stamp{rows.front().integer(0), rows.front().integer(1)};
}

std::optional<ProductView> CatalogStore::view(std::string_view id) const {
  return load_view(db_, id);
}

std::vector<ListedProduct> CatalogStore::list(const ListQuery& query, std::string_view after_id,
                                              int count) const {
  Params params{std::string(after_id)};
  std::string sql = std::string("SELECT ") + kProductColumns +
                    ", (SELECT COALESCE(SUM(available), 0) FROM stock WHERE product_id = p.id)"
                    ", (SELECT COALESCE(SUM(reserved), 0) FROM stock WHERE product_id = p.id)"
                    " FROM products p WHERE p.id > ?" +
                    filter_conditions(query, params, db_.backend_name()) + " ORDER BY p.id LIMIT ?";
  params.emplace_back(std::int64_t{count});

  std::vector<ListedProduct> out;
  for (const Row& row : db_.query(sql, params)) {
    out.push_back({product_from(row), {row.integer(10), row.integer(11)}});
  }
  return out;
}

std::vector<ProductView> CatalogStore::list_views(const ListQuery& query, std::string_view after_id,
                                                  int count) const {
  // One statement, so a page's products and their stock rows are one snapshot: the page is chosen
  // exactly as list() chooses it, then joined with its stock rows.
  Params params{std::string(after_id)};
  std::string sql = "SELECT " + kViewColumns + " FROM (SELECT * FROM products p WHERE p.id > ?" +
                    filter_conditions(query, params, db_.backend_name()) +
                    " ORDER BY p.id LIMIT ?) p LEFT JOIN stock s ON s.product_id = p.id"
                    " ORDER BY p.id, s.warehouse_id";
  params.emplace_back(std::int64_t{count});
  return views_from(db_.query(sql, params));
}

}  // namespace portico::routes_products
