// The operator routes on the admin listener (Route::admin, behind the admin token): move an order
// along its status machine, and record its shipment (which is what makes it `shipped`). Each
// change is ONE transaction: the order row, its status history, the stock it holds and exactly one
// order.* event (plus inventory.changed for the stock) commit together or not at all.
//
//   pending → confirmed    order.status_changed
//   confirmed → shipped    order.shipped        (POST …/shipment only; reserved stock taken out)
//   shipped → delivered    order.delivered      (the shipment becomes delivered too)
//   pending|confirmed → cancelled   order.cancelled   (reserved stock released)
#include <string>
#include <vector>

#include "order_records.hpp"
#include "order_store.hpp"
#include "orders_context.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/routes.hpp"
#include "update_input.hpp"

namespace portico::routes_orders {
namespace {

Order existing_order(Session& tx, const Request& request) {
  const std::string& id = request.param("id");
  auto order = load_order(tx, id);
  if (!order) throw sdk::not_found("No order with id '" + id + "'.");
  return std::move(*order);
}

ProblemError invalid_transition(std::string detail) {
  return sdk::conflict("invalid_transition", std::move(detail));
}

std::string shipment_path(const std::string& id) {
  return "POST /admin/v1/orders/" + id + "/shipment";
}

// Why `from` cannot become `to`, for the 409 (transition_allowed(from, to) is false).
std::string refusal(const Order& order, const std::string& to) {
  const std::string prefix =
      "Order " + order.id + " cannot move from " + order.status + " to " + to + ": ";
  if (to == kShipped && (order.status == kPending || order.status == kConfirmed)) {
    return prefix + "an order becomes shipped when its shipment is recorded with " +
           shipment_path(order.id) + " {carrier, tracking_number, events?}" +
           (order.status == kPending ? ", once it is confirmed." : ".");
  }
  if (order.status == kDelivered || order.status == kCancelled) {
    return prefix + order.status + " is final.";
  }
  if (order.status == kShipped) return prefix + "a shipped order can only become delivered.";
  if (order.status == kConfirmed) {
    return prefix + "a confirmed order can become shipped (record its shipment) or cancelled.";
  }
  return prefix + "a pending order can become confirmed or cancelled.";
}

Response json_answer(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

// --- POST /admin/v1/orders/{id}/status ----------------------------------------------------------

Response set_status(OrdersContext& context, const Request& request) {
  nlohmann::json body = sdk::parse_json_body(request);
  std::vector<FieldError> errors;
  const StatusUpdate update = read_status_update(body, errors);
  sdk::refuse_invalid_fields(std::move(errors));

  const std::string& to = update.status;
  const std::string now = context.now();
  std::string answer;
  context.db.transaction([&](Session& tx) {
    const Order before = existing_order(tx, request);
    if (to == before.status) {  // already there: nothing to do, nothing to tell
      answer = order_text(before);
      return;
    }
    if (to == kShipped || !transition_allowed(before.status, to)) {
      throw invalid_transition(refusal(before, to));
    }
    Order after = before;
    record_status(tx, after, to, now);
    std::string type;
    if (to == kConfirmed) {
      type = "order.status_changed";
    } else if (to == kDelivered) {
      type = "order.delivered";
      if (after.shipment) {
        tx.execute(
            "UPDATE shipments SET status = 'delivered', delivered_at = ?, updated_at = ?"
            " WHERE order_id = ?",
            {now, now, after.id});
        after.shipment->status = "delivered";
        after.shipment->delivered_at = now;
        after.shipment->updated_at = now;
      }
    } else {  // cancelled
      type = "order.cancelled";
      settle_reserved_stock(tx, context.outbox, after.id, ReservedStock::release, now);
    }
    touch_order(tx, after, now);
    answer = order_text(after);
    context.outbox.append(tx, order_event(type, after, answer, {{"status", before.status}}));
  });
  return json_answer(200, answer);
}

// --- POST /admin/v1/orders/{id}/shipment --------------------------------------------------------

void insert_shipment(Session& tx, const Shipment& s) {
  tx.execute(
      "INSERT INTO shipments (order_id, carrier, tracking_number, status, events, shipped_at,"
      " delivered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {s.order_id, s.carrier, s.tracking_number, s.status, s.events.dump(), s.shipped_at,
       s.delivered_at ? Value(*s.delivered_at) : Value(nullptr), s.updated_at});
}

Response record_shipment(OrdersContext& context, const Request& request) {
  nlohmann::json body = sdk::parse_json_body(request);
  std::vector<FieldError> errors;
  ShipmentUpdate update = read_shipment_update(body, errors);
  sdk::refuse_invalid_fields(std::move(errors));

  const std::string now = context.now();
  int status = 200;
  Shipment answer;
  context.db.transaction([&](Session& tx) {
    const Order before = existing_order(tx, request);
    if (before.status == kPending) {
      throw invalid_transition(
          "Order " + before.id + " is pending: confirm the order first (POST /admin/v1/orders/" +
          before.id + "/status {\"status\": \"confirmed\"}), then record its shipment.");
    }
    if (before.status == kCancelled) {
      throw invalid_transition("Order " + before.id +
                               " is cancelled: a cancelled order cannot be shipped.");
    }
    Order after = before;

    if (before.status == kConfirmed) {  // the shipment makes the order shipped
      Shipment shipment;
      shipment.order_id = before.id;
      shipment.carrier = update.carrier;
      shipment.tracking_number = update.tracking_number;
      shipment.status = "in_transit";
      shipment.events = complete_tracking_events(update.events.value_or(nlohmann::json::array()),
                                                 nlohmann::json::array(), now);
      shipment.shipped_at = now;
      shipment.updated_at = now;
      insert_shipment(tx, shipment);
      record_status(tx, after, kShipped, now);
      after.shipment = shipment;
      touch_order(tx, after, now);
      context.outbox.append(
          tx, order_event("order.shipped", after, order_text(after), {{"status", before.status}}));
      settle_reserved_stock(tx, context.outbox, after.id, ReservedStock::take_out, now);
      status = 201;
      answer = std::move(shipment);
      return;
    }

    // Already shipped or delivered: correct the carrier and tracking number and replace the
    // tracking events (when given). Posting the same shipment again changes nothing.
    if (!before.shipment) {  // not written by this plugin; keep the order's status as it is
      Shipment shipment;
      shipment.order_id = before.id;
      shipment.carrier = update.carrier;
      shipment.tracking_number = update.tracking_number;
      shipment.status = before.status == kDelivered ? "delivered" : "in_transit";
      shipment.events = complete_tracking_events(update.events.value_or(nlohmann::json::array()),
                                                 nlohmann::json::array(), now);
      shipment.shipped_at = now;
      if (before.status == kDelivered) shipment.delivered_at = now;
      shipment.updated_at = now;
      insert_shipment(tx, shipment);
      after.shipment = shipment;
      touch_order(tx, after, now);
      answer = std::move(shipment);
      return;
    }
    Shipment shipment = *before.shipment;
    nlohmann::json events = update.events
                                ? complete_tracking_events(*update.events, shipment.events, now)
                                : shipment.events;
    if (shipment.carrier == update.carrier && shipment.tracking_number == update.tracking_number &&
        shipment.events == events) {
      answer = std::move(shipment);
      return;
    }
    shipment.carrier = update.carrier;
    shipment.tracking_number = update.tracking_number;
    shipment.events = std::move(events);
    shipment.updated_at = now;
    tx.execute(
        "UPDATE shipments SET carrier = ?, tracking_number = ?, events = ?, updated_at = ?"
        " WHERE order_id = ?",
        {shipment.carrier, shipment.tracking_number, shipment.events.dump(), now, before.id});
    after.shipment = shipment;
    touch_order(tx, after, now);
    answer = std::move(shipment);
  });
  Response response = json_answer(status, shipment_json(answer).dump());
  if (status == 201) response.set_header("Location", "/v1/orders/" + answer.order_id + "/shipment");
  return response;
}

}  // namespace

std::vector<Route> admin_routes(OrdersContext& context) {
  OrdersContext* c = &context;
  const std::string base = "/admin/v1/orders";
  return {
      sdk::admin_route("POST", base + "/{id}/status",
                       [c](const Request& r) { return set_status(*c, r); }),
      sdk::admin_route("POST", base + "/{id}/shipment",
                       [c](const Request& r) { return record_shipment(*c, r); }),
  };
}

}  // namespace portico::routes_orders
