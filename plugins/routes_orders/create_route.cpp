// POST /v1/orders (scope orders:write): an order from catalog prices, its stock reserved all or
// nothing, under an Idempotency-Key; and the pruning of expired idempotency records.
//
// One request:
//   1. Idempotency-Key read (400 when missing or malformed), the body parsed (400 when not JSON)
//      and fingerprinted: hex BLAKE2b of its canonical JSON (idempotency.hpp).
//   2. The key claimed in this process for the request's length (partner ␟ key): a second request
//      with the key meanwhile answers 409 `idempotency_key_in_use` with Retry-After: 1.
//   3. The body checked (order_input.hpp).
//   4. One write transaction: the stored record of (partner, key) looked up — a fresh one with the
//      same fingerprint is replayed (same status, body and Location, plus Idempotent-Replayed:
//      true), with another fingerprint answers 422 `idempotency_conflict`, an expired one is
//      deleted; then products, prices and stock read in one statement, the order priced
//      (order_plan.hpp), its row inserted (409 `duplicate_external_id`), stock allocated and
//      reserved (409 `insufficient_inventory` naming every short line), items, allocations and
//      history inserted, inventory.changed and order.created appended to the outbox, and the
//      answer stored under the key. All of it commits together or not at all: an acknowledged
//      order survives a crash with its stock, events and idempotency record, and a crash never
//      leaves stock reserved for an order that does not exist.
//
// Only a 201 is stored under the key. A 400 (invalid body, unknown or inactive product) and a
// 409 `insufficient_inventory` / `duplicate_external_id` created nothing, so they are not
// recorded: retrying with the same key and body may succeed later (once stock arrives, or after
// the product is activated), which is what a client retrying after such an answer wants. A body
// that does not validate is still compared with a stored record first, so a key already used for
// an order answers with that order (or 422), never with a validation error for another body.
//
// Because the lookup runs inside the write transaction (BEGIN IMMEDIATE: one writer at a time,
// across processes too), the record cannot appear between the lookup and the insert on SQLite.
// A backend whose transactions are not serialized would surface that race as a ConstraintError
// on the record's insert; the transaction is then rolled back and the request starts over from
// the lookup, which now finds the winner's record.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalog_common/inventory_view.hpp"
#include "idempotency.hpp"
#include "order_input.hpp"
#include "order_plan.hpp"
#include "order_records.hpp"
#include "order_store.hpp"
#include "orders_context.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/routes.hpp"
#include "portico/sdk/sodium.hpp"
#include "portico/sdk/time.hpp"

namespace portico::routes_orders {
namespace {

constexpr const char* kScope = "orders:write";
constexpr int kMaxAttempts = 3;
constexpr std::int64_t kPruneBatch = 1000;

// The answer stored under (partner, key).
struct StoredAnswer {
  std::string fingerprint;
  int status = 0;
  std::string body;
  std::optional<std::string> order_id;
  std::string created_at;
};

// Thrown inside the transaction when another writer stored the same key first (see the top).
struct LostKeyRace {};

// The in-process claim of one key, released whatever happens to the request.
class KeyClaim {
 public:
  KeyClaim(InFlightKeys& keys, std::string key)
      : keys_(keys), key_(std::move(key)), claimed_(keys_.try_claim(key_)) {}
  ~KeyClaim() {
    if (claimed_) keys_.release(key_);
  }
  KeyClaim(const KeyClaim&) = delete;
  KeyClaim& operator=(const KeyClaim&) = delete;
  explicit operator bool() const { return claimed_; }

 private:
  InFlightKeys& keys_;
  std::string key_;
  bool claimed_;
};

std::optional<StoredAnswer> find_answer(Session& session, const std::string& partner_id,
                                        const std::string& key) {
  Rows rows = session.query(
      "SELECT fingerprint, status, body, order_id, created_at FROM idempotency_keys"
      " WHERE partner_id = ? AND key = ?",
      {partner_id, key});
  if (rows.empty()) return std::nullopt;
  const Row& row = rows.front();
  return StoredAnswer{row.text(0), static_cast<int>(row.integer(1)), row.text(2),
                      row.optional_text(3), row.text(4)};
}

// The stored answer played back, or 422 when it was given to another body.
Response replay(const StoredAnswer& stored, const std::string& fingerprint) {
  if (stored.fingerprint != fingerprint) {
    throw sdk::problem(422, "idempotency_conflict", "Idempotency key reused",
                       "This Idempotency-Key was already used for a request with another body. "
                       "Send a new key for a new order, or the original body to get its answer.",
                       {{kIdempotencyKeyHeader, "was used with another request body"}});
  }
  return idempotent_response(stored.status, stored.body, stored.order_id, true);
}

ProblemError key_in_use() {
  ProblemError error = sdk::conflict(
      "idempotency_key_in_use",
      "The first request with this Idempotency-Key is still being processed. Retry after it has "
      "finished to get its answer.",
      {{kIdempotencyKeyHeader, "is in use by a request still being processed"}});
  Problem problem = error.problem();
  problem.headers.emplace_back("Retry-After", "1");
  return ProblemError(std::move(problem));
}

// "?, ?, ?": the placeholders of an IN list of `count` values (at most kMaxOrderLines, so each
// backend prepares a bounded number of these statements).
std::string placeholders(std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

// Products, prices and stock of every line, in one statement of the transaction.
CatalogProducts read_catalog(Session& tx, const std::vector<OrderLineInput>& lines) {
  Params ids;
  ids.reserve(lines.size());
  for (const auto& line : lines) ids.emplace_back(line.product_id);
  CatalogProducts catalog;
  catalog.reserve(lines.size());
  // Each product is one primary-key lookup, whatever the count (portable SQL: an IN list).
  for (const Row& row : tx.query("SELECT p.id, p.sku, p.name, p.price_amount, p.currency, p.status,"
                                 " s.warehouse_id, s.available, s.reserved, s.updated_at"
                                 " FROM products AS p LEFT JOIN stock AS s ON s.product_id = p.id"
                                 " WHERE p.id IN (" +
                                     placeholders(ids.size()) + ")",
                                 ids)) {
    auto [it, created] = catalog.try_emplace(row.text(0));
    CatalogProduct& product = it->second;
    if (created) {
      product.sku = row.text(1);
      product.name = row.text(2);
      product.price_amount = row.integer(3);
      product.currency = row.text(4);
      product.status = row.text(5);
    }
    if (!row.is_null(6)) {
      product.stock.push_back({row.text(6), row.integer(7), row.integer(8), row.text(9)});
    }
  }
  return catalog;
}

// The order as its transaction writes it: the answer, the event and the stored JSON columns are
// rendered from the priced lines before the transaction when a reader's view of the catalog
// prices the order as the transaction then does (then only the comparison runs while every other
// writer waits), or inside it when a price, name or sku changed in between.
struct RenderedOrder {
  PricedOrder priced;
  std::string shipping_address;  // JSON text, as stored
  std::string metadata;          // JSON text, as stored
  std::string body;              // the 201 answer: what GET /v1/orders/{id} shows
  PreparedEvent created;         // order.created: data.object is `body`
};

RenderedOrder render_order(const std::string& order_id, const std::string& partner_id,
                           const OrderInput& input, PricedOrder priced, const std::string& now) {
  // The answer is the same order_text() GET /v1/orders/{id} shows of what the transaction
  // writes, built from memory: reading it back would cost four statements in the transaction.
  Order order;
  order.id = order_id;
  order.partner_id = partner_id;
  order.external_id = input.external_id;
  order.currency = priced.currency;
  order.total_amount = priced.total_amount;
  order.shipping_address = input.shipping_address;
  order.metadata = input.metadata;
  order.items = priced.items;
  order.history.push_back({kPending, now});
  order.created_at = now;
  order.updated_at = now;
  std::string shipping_address = input.shipping_address.dump();
  std::string metadata = input.metadata.dump();
  std::string body = order_text(order, shipping_address, metadata);
  PreparedEvent created = order_event("order.created", order, body);
  return RenderedOrder{std::move(priced), std::move(shipping_address), std::move(metadata),
                       std::move(body), std::move(created)};
}

bool same_pricing(const PricedOrder& a, const PricedOrder& b) {
  if (a.currency != b.currency || a.total_amount != b.total_amount ||
      a.items.size() != b.items.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    const OrderItem& x = a.items[i];
    const OrderItem& y = b.items[i];
    if (x.product_id != y.product_id || x.sku != y.sku || x.name != y.name ||
        x.quantity != y.quantity || x.unit_amount != y.unit_amount) {
      return false;
    }
  }
  return true;
}

// Rendered from the prices the last orders of its products were written with, or nullopt when
// one of them has not been ordered yet (or no longer prices: the transaction then says why).
std::optional<RenderedOrder> render_ahead(const RecentPrices& recent, const std::string& order_id,
                                          const std::string& partner_id, const OrderInput& input,
                                          const std::string& now) {
  const std::optional<CatalogProducts> products = recent.lookup(input.items);
  if (!products) return std::nullopt;
  std::vector<FieldError> errors;
  PricedOrder priced = price_order(input.items, *products, errors);
  if (!errors.empty()) return std::nullopt;
  return render_order(order_id, partner_id, input, std::move(priced), now);
}

void insert_order_row(Session& tx, const std::string& order_id, const std::string& partner_id,
                      const OrderInput& input, const RenderedOrder& order,
                      const std::string& now) {
  const Value external_id = input.external_id ? Value(*input.external_id) : Value(nullptr);
  try {
    tx.execute(
        "INSERT INTO orders(id, partner_id, external_id, status, currency, total_amount,"
        " shipping_address, metadata, version, created_at, updated_at)"
        " VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, 1, ?, ?)",
        {order_id, partner_id, external_id, order.priced.currency, order.priced.total_amount,
         order.shipping_address, order.metadata, now, now});
  } catch (const ConstraintError&) {
    if (!input.external_id) throw;
    Rows existing = tx.query("SELECT id FROM orders WHERE partner_id = ? AND external_id = ?",
                             {partner_id, *input.external_id});
    if (existing.empty()) throw;
    const std::string other = existing.front().text(0);
    throw sdk::conflict("duplicate_external_id",
                        "Order " + other + " already has external_id '" + *input.external_id +
                            "'. No order was created.",
                        {{"external_id", "is already used by order " + other}});
  }
}

ProblemError insufficient_inventory(std::vector<FieldError> shortages) {
  const std::size_t count = shortages.size();
  return sdk::problem(409, "insufficient_inventory", "Insufficient inventory",
                      std::to_string(count) + (count == 1 ? " item" : " items") +
                          " cannot be reserved. Nothing was reserved and no order was created.",
                      std::move(shortages));
}

// When the body has other problems, the lines' products are still checked (on a reader), so one
// 400 names every problem at once: unknown and inactive products too.
void add_product_problems(Database& db, const nlohmann::json& body,
                          std::vector<FieldError>& errors) {
  const auto items = body.find("items");
  if (items == body.end() || !items->is_array() || items->size() > kMaxOrderLines) return;
  std::vector<std::pair<std::size_t, std::string>> named;  // line → product id
  Params ids;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const nlohmann::json& item = (*items)[i];
    if (!item.is_object()) continue;
    const auto id = item.find("product_id");
    if (id == item.end() || !id->is_string()) continue;
    const std::string field = "items[" + std::to_string(i) + "].product_id";
    bool already = false;
    for (const auto& e : errors) already = already || e.field == field;
    if (already) continue;  // malformed or repeated: said already
    named.emplace_back(i, id->get<std::string>());
    ids.emplace_back(named.back().second);
  }
  if (named.empty()) return;
  std::unordered_map<std::string, std::string> status;
  for (const Row& row : db.query("SELECT id, status FROM products WHERE id IN (" +
                                     placeholders(ids.size()) + ")",
                                 ids)) {
    status.emplace(row.text(0), row.text(1));
  }
  for (const auto& [line, id] : named) {
    const std::string field = "items[" + std::to_string(line) + "].product_id";
    auto found = status.find(id);
    if (found == status.end()) {
      errors.push_back({field, "no product " + id});
    } else if (found->second != "active") {
      errors.push_back({field, "product " + id + " is inactive"});
    }
  }
}

// Everything after the checks of the body, inside one transaction.
Response create_in(Session& tx, OrdersContext& context, const std::string& partner_id,
                   const std::string& key, const std::string& fingerprint, const OrderInput& input,
                   const std::string& order_id, std::optional<RenderedOrder>& ahead,
                   bool& priced_in_tx, const std::string& now, const std::string& cutoff) {
  if (auto stored = find_answer(tx, partner_id, key)) {
    if (stored->created_at >= cutoff) return replay(*stored, fingerprint);
    tx.execute("DELETE FROM idempotency_keys WHERE partner_id = ? AND key = ?", {partner_id, key});
  }

  const CatalogProducts catalog = read_catalog(tx, input.items);
  std::vector<FieldError> errors;
  PricedOrder priced = price_order(input.items, catalog, errors);
  if (!errors.empty()) throw sdk::invalid_fields(std::move(errors), "No order was created.");
  if (!ahead || !same_pricing(ahead->priced, priced)) {
    ahead = render_order(order_id, partner_id, input, std::move(priced), now);
  }
  RenderedOrder& order = *ahead;
  priced_in_tx = true;
  insert_order_row(tx, order_id, partner_id, input, order, now);

  std::vector<FieldError> shortages;
  const std::vector<Allocation> allocations = allocate_stock(input.items, catalog, shortages);
  if (!shortages.empty()) throw insufficient_inventory(std::move(shortages));
  std::vector<StockChange> changes;
  changes.reserve(allocations.size());
  for (const auto& a : allocations) {
    changes.push_back({a.product_id, a.warehouse_id, -a.quantity, a.quantity});
  }
  // The rows read_catalog read, in the order stock_of reads them (by warehouse id).
  StockRows known;
  for (const auto& change : changes) {
    auto [rows, added] = known.try_emplace(change.product_id);
    if (!added) continue;
    for (const auto& level : catalog.at(change.product_id).stock) {
      rows->second.push_back(
          {level.warehouse_id, level.available, level.reserved, level.updated_at});
    }
    std::sort(rows->second.begin(), rows->second.end(),
              [](const auto& a, const auto& b) { return a.warehouse_id < b.warehouse_id; });
  }
  apply_stock_changes(tx, context.outbox, changes, now, &known);

  for (std::size_t line = 0; line < order.priced.items.size(); ++line) {
    const OrderItem& item = order.priced.items[line];
    tx.execute(
        "INSERT INTO order_items(order_id, line, product_id, sku, name, quantity, unit_amount)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        {order_id, static_cast<std::int64_t>(line), item.product_id, item.sku, item.name,
         item.quantity, item.unit_amount});
  }
  for (const auto& a : allocations) {
    tx.execute(
        "INSERT INTO order_allocations(order_id, product_id, warehouse_id, quantity)"
        " VALUES (?, ?, ?, ?)",
        {order_id, a.product_id, a.warehouse_id, a.quantity});
  }
  tx.execute(
      "INSERT INTO order_status_history(order_id, seq, status, at) VALUES (?, 0, 'pending', ?)",
      {order_id, now});
  context.outbox.append(tx, order.created);

  try {
    tx.execute(
        "INSERT INTO idempotency_keys(partner_id, key, fingerprint, status, body, order_id,"
        " created_at) VALUES (?, ?, ?, 201, ?, ?, ?)",
        {partner_id, key, fingerprint, order.body, order_id, now});
  } catch (const ConstraintError&) {
    throw LostKeyRace{};
  }
  return idempotent_response(201, order.body, order_id, false);
}

Response create_order(OrdersContext& context, const Request& request) {
  if (!request.identity) throw sdk::unauthorized("POST /v1/orders needs a partner's credentials.");
  const std::string& partner_id = request.identity->partner_id;

  std::string key_error;
  const std::optional<std::string> key =
      parse_idempotency_key(request.header(kIdempotencyKeyHeader), key_error);
  if (!key) {
    throw sdk::invalid_request(
        "POST /v1/orders needs a valid Idempotency-Key header: a unique value per order (e.g. a "
        "UUID), sent again unchanged when retrying. No order was created.",
        {{kIdempotencyKeyHeader, key_error}});
  }
  const nlohmann::json body =
      sdk::parse_json_body(request, false, "{\"items\", \"shipping_address\"}");
  const std::string fingerprint = sdk::to_hex(sdk::blake2b(canonical_body(body)));

  KeyClaim claim(context.in_flight, in_flight_key(partner_id, *key));
  if (!claim) throw key_in_use();

  std::vector<FieldError> errors;
  const OrderInput input = read_order_input(body, errors);
  const auto clock = context.host.now();
  const std::string now = sdk::format_timestamp(clock);
  const std::string cutoff = sdk::format_timestamp(clock - context.settings.idempotency_retention);
  if (!errors.empty()) {
    // Nothing is written: a read (on a reader connection) is enough to honour a stored answer.
    if (auto stored = find_answer(context.db, partner_id, *key);
        stored && stored->created_at >= cutoff) {
      return replay(*stored, fingerprint);
    }
    add_product_problems(context.db, body, errors);
    throw sdk::invalid_fields(std::move(errors), "No order was created.");
  }

  // Rendered while other orders hold the writer; checked and used inside the transaction.
  const std::string order_id = sdk::time_ordered_id("ord_", clock);
  std::optional<RenderedOrder> ahead =
      render_ahead(context.recent_prices, order_id, partner_id, input, now);
  for (int attempt = 1;; ++attempt) {
    try {
      Response response;
      bool priced_in_tx = false;
      context.db.transaction([&](Session& tx) {
        priced_in_tx = false;  // a body the group commit runs again starts over
        response = create_in(tx, context, partner_id, *key, fingerprint, input, order_id, ahead,
                             priced_in_tx, now, cutoff);
      });
      if (priced_in_tx) context.recent_prices.remember(ahead->priced);
      return response;
    } catch (const LostKeyRace&) {
      if (attempt == kMaxAttempts) {
        throw DatabaseError("idempotency record of a key kept changing under " +
                            std::to_string(kMaxAttempts) + " attempts");
      }
    }
  }
}

}  // namespace

std::vector<Route> create_routes(OrdersContext& context) {
  OrdersContext* c = &context;
  return {
      sdk::route("POST", "/v1/orders", kScope, [c](const Request& r) { return create_order(*c, r); }),
  };
}

std::int64_t prune_idempotency_keys(OrdersContext& context) {
  const std::string cutoff =
      sdk::format_timestamp(context.host.now() - context.settings.idempotency_retention);
  // In batches, each its own short write, so order creation is never held up for long.
  std::int64_t total = 0;
  for (;;) {
    const std::int64_t removed = context.db.execute(
        "DELETE FROM idempotency_keys WHERE (partner_id, key) IN (SELECT partner_id, key"
        " FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)",
        {cutoff, kPruneBatch});
    total += removed;
    if (removed < kPruneBatch) return total;
  }
}

}  // namespace portico::routes_orders
