// The partner routes on existing orders: the list (newest first, keyset cursors, filters), one
// order with a strong ETag, PATCH (cancel while pending/confirmed, edit metadata, If-Match), and
// the shipment. Every route sees only the caller's own orders: another partner's order id answers
// the same 404 as an id that does not exist.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "portico/sdk/routes.hpp"
#include "metadata.hpp"
#include "order_query.hpp"
#include "order_records.hpp"
#include "order_store.hpp"
#include "orders_context.hpp"
#include "portico/sdk/etag.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/query.hpp"
#include "portico/sdk/sodium.hpp"
#include "update_input.hpp"

namespace portico::routes_orders {
namespace {

constexpr const char* kRead = "orders:read";
constexpr const char* kWrite = "orders:write";
constexpr std::size_t kMaxOrderIdLength = 64;

const std::string& partner_of(const Request& request) {
  if (!request.identity) throw sdk::unauthorized("This route needs a partner's credentials.");
  return request.identity->partner_id;
}

ProblemError no_such_order(const std::string& id) {
  return sdk::not_found("No order with id '" + id + "'.");
}

// Ids are "ord_" + base62; anything longer or with other characters cannot exist.
bool plausible_order_id(const std::string& id) {
  if (id.empty() || id.size() > kMaxOrderIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// The caller's order `id` read through `session`, or the 404.
Order partner_order(Session& session, const Request& request) {
  const std::string& id = request.param("id");
  std::optional<Order> order;
  if (plausible_order_id(id)) order = load_partner_order(session, partner_of(request), id);
  if (!order) throw no_such_order(id);
  return std::move(*order);
}

// 200 with the body and its strong ETag, or 304 when the caller already holds it.
Response conditional(const Request& request, std::string body) {
  const std::string etag = sdk::strong_etag(body);
  Response response;
  response.set_header("ETag", etag);
  // Orders change (status, shipment): caches may keep the body but must revalidate it.
  response.set_header("Cache-Control", "private, no-cache");
  auto if_none_match = request.header("If-None-Match");
  if (if_none_match && sdk::if_none_match_hits(*if_none_match, etag)) {
    response.status = 304;
    return response;
  }
  response.status = 200;
  response.body = std::move(body);
  return response;
}

// --- GET /v1/orders ---------------------------------------------------------------------------

// One page of the caller's orders, newest first, with their items, history and shipments, read in
// ONE statement (so from one snapshot, and in one round trip instead of four per order). The page
// is a keyset walk of orders_by_partner / orders_by_partner_status: (created_at, id) below the
// cursor's position.
std::vector<Order> list_page(Session& session, const std::string& partner_id,
                             const OrderListQuery& query, const std::optional<OrderPosition>& after,
                             int count) {
  std::string page = "SELECT id FROM orders WHERE partner_id = ?";
  Params params{partner_id};
  if (query.status) {
    page += " AND status = ?";
    params.emplace_back(*query.status);
  }
  if (query.created_since) {
    page += " AND created_at >= ?";
    params.emplace_back(*query.created_since);
  }
  if (query.external_id) {
    page += " AND external_id = ?";
    params.emplace_back(*query.external_id);
  }
  if (after) {
    // The range on created_at lets the index seek; the OR breaks ties on id.
    page += " AND created_at <= ? AND (created_at < ? OR id < ?)";
    params.emplace_back(after->created_at);
    params.emplace_back(after->created_at);
    params.emplace_back(after->id);
  }
  page += " ORDER BY created_at DESC, id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(count));

  // At most 16 statement texts (one per combination of filters and cursor). Each column holds
  // one type in every branch (integers in 0, 2, 6 and 7, text elsewhere), as PostgreSQL needs.
  const std::string sql =
      "WITH page AS (" + page +
      ")"
      " SELECT 0, o.id, NULL, o.external_id, o.status, o.currency, o.total_amount, o.version,"
      " o.shipping_address, o.metadata, o.created_at, o.updated_at"
      " FROM orders o WHERE o.id IN (SELECT id FROM page)"
      " UNION ALL"
      " SELECT 1, i.order_id, i.line, i.product_id, i.sku, i.name, i.quantity, i.unit_amount,"
      " NULL, NULL, NULL, NULL FROM order_items i WHERE i.order_id IN (SELECT id FROM page)"
      " UNION ALL"
      " SELECT 2, h.order_id, h.seq, h.status, h.at, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
      " FROM order_status_history h WHERE h.order_id IN (SELECT id FROM page)"
      " UNION ALL"
      " SELECT 3, s.order_id, NULL, s.carrier, s.tracking_number, s.status, NULL, NULL,"
      " s.events, s.shipped_at, s.delivered_at, s.updated_at"
      " FROM shipments s WHERE s.order_id IN (SELECT id FROM page)";

  std::map<std::string, Order> orders;
  std::map<std::string, std::vector<std::pair<std::int64_t, OrderItem>>> items;
  std::map<std::string, std::vector<std::pair<std::int64_t, StatusChange>>> history;
  std::map<std::string, Shipment> shipments;
  for (const Row& row : session.query(sql, params)) {
    std::string id = row.text(1);
    switch (row.integer(0)) {
      case 0: {
        Order order;
        order.id = id;
        order.partner_id = partner_id;
        order.external_id = row.optional_text(3);
        order.status = row.text(4);
        order.currency = row.text(5);
        order.total_amount = row.integer(6);
        order.version = row.integer(7);
        order.shipping_address = nlohmann::json::parse(row.text(8));
        order.metadata = nlohmann::json::parse(row.text(9));
        order.created_at = row.text(10);
        order.updated_at = row.text(11);
        orders.emplace(std::move(id), std::move(order));
        break;
      }
      case 1:
        items[id].push_back({row.integer(2), OrderItem{row.text(3), row.text(4), row.text(5),
                                                       row.integer(6), row.integer(7)}});
        break;
      case 2:
        history[id].push_back({row.integer(2), StatusChange{row.text(3), row.text(4)}});
        break;
      default:
        shipments.emplace(id, Shipment{id, row.text(3), row.text(4), row.text(5),
                                       nlohmann::json::parse(row.text(8)), row.text(9),
                                       row.optional_text(10), row.text(11)});
        break;
    }
  }

  auto by_position = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::vector<Order> out;
  out.reserve(orders.size());
  for (auto& [id, order] : orders) {
    auto& lines = items[id];
    std::sort(lines.begin(), lines.end(), by_position);
    for (auto& [line, item] : lines) order.items.push_back(std::move(item));
    auto& changes = history[id];
    std::sort(changes.begin(), changes.end(), by_position);
    for (auto& [seq, change] : changes) order.history.push_back(std::move(change));
    if (auto it = shipments.find(id); it != shipments.end()) order.shipment = std::move(it->second);
    out.push_back(std::move(order));
  }
  std::sort(out.begin(), out.end(), [](const Order& a, const Order& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  });
  return out;
}

Response list(OrdersContext& context, const Request& request) {
  const std::string& partner_id = partner_of(request);
  std::vector<FieldError> errors;
  OrderListQuery query = parse_order_list_query(request.query, errors);
  std::optional<OrderPosition> after;
  if (errors.empty() && query.cursor) {
    if (auto position = sdk::cursor_position(context.cursors, *query.cursor, query.filter_key(),
                                             kOrderListFilterNames, errors)) {
      after = decode_order_position(*position);
      if (!after) {
        errors.push_back({"cursor", "is not a cursor this API issued; use next_cursor as given"});
      }
    }
  }
  if (!errors.empty()) throw sdk::invalid_query(std::move(errors));

  std::vector<Order> orders =
      list_page(context.db, partner_id, query, after, query.limit + 1);  // one more: next page?
  const bool has_more = orders.size() > static_cast<std::size_t>(query.limit);
  if (has_more) orders.pop_back();
  // {"data":[…],"has_more":…,"next_cursor":…}
  Response response;
  response.body = "{\"data\":[";
  for (std::size_t i = 0; i < orders.size(); ++i) {
    if (i > 0) response.body += ',';
    response.body += order_text(orders[i]);
  }
  if (has_more) {
    response.body += "],\"has_more\":true,\"next_cursor\":";
    sdk::append_json_string(
        response.body,
        context.cursors.encode(encode_order_position(orders.back().created_at, orders.back().id),
                               query.filter_key()));
    response.body += '}';
  } else {
    response.body += "],\"has_more\":false,\"next_cursor\":null}";
  }
  response.set_header("Cache-Control", "private, no-cache");
  return response;
}

// --- PATCH /v1/orders/{id} ----------------------------------------------------------------------

Response patch(OrdersContext& context, const Request& request) {
  nlohmann::json body = sdk::parse_json_body(request);
  std::vector<FieldError> errors;
  OrderPatch change = read_order_patch(body, errors);
  sdk::refuse_invalid_fields(std::move(errors));

  const auto if_match = request.header("If-Match");
  const std::string now = context.now();
  std::string answer;
  context.db.transaction([&](Session& tx) {
    const Order before = partner_order(tx, request);
    const std::string current = order_text(before);
    if (if_match) {
      const std::string etag = sdk::strong_etag(current);
      if (!sdk::if_match_hits(*if_match, etag)) {
        ProblemError problem = sdk::problem(
            412, "precondition_failed", "Precondition failed",
            "If-Match does not match the current ETag of order " + before.id +
                ": it changed since you read it. GET it again and retry with its ETag.");
        Problem with_etag = problem.problem();
        with_etag.headers.emplace_back("ETag", etag);
        throw ProblemError(std::move(with_etag));
      }
    }

    Order after = before;
    nlohmann::json previous = nlohmann::json::object();
    bool changed = false;
    if (change.metadata) {
      nlohmann::json merged = merge_metadata(before.metadata, *change.metadata);
      if (auto problem = merged_metadata_problem(merged)) {
        sdk::refuse_invalid_fields({std::move(*problem)});
      }
      if (merged != before.metadata) {
        previous["metadata"] = before.metadata;
        after.metadata = std::move(merged);
        changed = true;
      }
    }
    bool cancelled = false;
    if (change.status) {
      const std::string& to = *change.status;
      if (to != kCancelled) {
        throw sdk::conflict("invalid_transition",
                            "Order " + before.id + " cannot move from " + before.status + " to " +
                                to +
                                ": a partner can only cancel an order (status \"cancelled\"); "
                                "the seller confirms, ships and delivers it.");
      }
      if (before.status != kCancelled) {
        if (!transition_allowed(before.status, kCancelled)) {
          throw sdk::conflict("invalid_transition",
                              "Order " + before.id + " cannot move from " + before.status +
                                  " to cancelled: only pending or confirmed orders can be "
                                  "cancelled.");
        }
        record_status(tx, after, kCancelled, now);
        previous["status"] = before.status;
        cancelled = true;
        changed = true;
      }
    }
    if (changed) {
      touch_order(tx, after, now);
      answer = order_text(after);
      if (cancelled) {
        // One event per change: metadata edited in the same request rides along in
        // previous_attributes; a metadata-only edit writes none.
        context.outbox.append(tx, order_event("order.cancelled", after, answer, previous));
        settle_reserved_stock(tx, context.outbox, after.id, ReservedStock::release, now);
      }
    } else {
      answer = current;
    }
  });
  Response response;
  response.set_header("ETag", sdk::strong_etag(answer));
  response.set_header("Cache-Control", "private, no-cache");
  response.body = std::move(answer);
  return response;
}

// --- GET /v1/orders/{id}/shipment ---------------------------------------------------------------

Response shipment(OrdersContext& context, const Request& request) {
  Order order = partner_order(context.db, request);
  if (!order.shipment) {
    throw sdk::not_found("Order " + order.id + " has not shipped yet (it is " + order.status +
                         ").");
  }
  return conditional(request, shipment_json(*order.shipment).dump());
}

}  // namespace

std::vector<Route> partner_routes(OrdersContext& context) {
  OrdersContext* c = &context;
  return {
      sdk::route("GET", "/v1/orders", kRead, [c](const Request& r) { return list(*c, r); }),
      sdk::route(
          "GET", "/v1/orders/{id}", kRead,
          [c](const Request& r) { return conditional(r, order_text(partner_order(c->db, r))); }),
      sdk::route("PATCH", "/v1/orders/{id}", kWrite,
                 [c](const Request& r) { return patch(*c, r); }),
      sdk::route("GET", "/v1/orders/{id}/shipment", kRead,
                 [c](const Request& r) { return shipment(*c, r); }),
  };
}

}  // namespace portico::routes_orders
