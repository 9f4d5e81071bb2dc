// Business events and the transactional outbox: a plugin writes its change and its event through
// the same Session, so both commit or neither does. Consumers (webhook delivery, the events API)
// read events back in commit order.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portico/database.hpp"

namespace portico {

struct Event {
  std::string type{};        // "order.created", "inventory.changed", ...
  std::string partner_id{};  // owner; empty = every partner may see it (catalog events)
  std::string subject{};     // id of the object it is about, e.g. "ord_..." (ordering key)
  nlohmann::json object{};   // data.object
  nlohmann::json previous_attributes{};  // data.previous_attributes; null when absent
};

// Since API 3.1: an event whose data is JSON text already, made before the transaction, so the
// writer — which every other writer waits for — only copies it into the log. Made from an Event
// (its object serialized here) or from the object's JSON text (checked here: one JSON object,
// valid UTF-8). Either constructor throws std::invalid_argument naming the event when its data
// cannot be stored. Immutable; append it as often as needed.
class PreparedEvent {
 public:
  explicit PreparedEvent(const Event& event)
      : type_(event.type), partner_id_(event.partner_id), subject_(event.subject) {
    check_type();
    try {
      data_ = "{\"object\":" + event.object.dump();
      if (!event.previous_attributes.is_null()) {
        data_ += ",\"previous_attributes\":" + event.previous_attributes.dump();
      }
    } catch (const nlohmann::json::exception& error) {
      throw std::invalid_argument("event " + type_ + " cannot be serialized: " + error.what());
    }
    data_ += '}';
  }
  // `object_json` is data.object and `previous_attributes_json` data.previous_attributes (empty:
  // absent), as JSON text: each must be one JSON object.
  PreparedEvent(std::string type, std::string partner_id, std::string subject,
                std::string_view object_json, std::string_view previous_attributes_json = {})
      : type_(std::move(type)), partner_id_(std::move(partner_id)), subject_(std::move(subject)) {
    check_type();
    check_object(object_json, "object");
    data_.reserve(object_json.size() + previous_attributes_json.size() + 40);
    data_.append("{\"object\":").append(object_json);
    if (!previous_attributes_json.empty()) {
      check_object(previous_attributes_json, "previous_attributes");
      data_.append(",\"previous_attributes\":").append(previous_attributes_json);
    }
    data_ += '}';
  }

  const std::string& type() const { return type_; }
  const std::string& partner_id() const { return partner_id_; }
  const std::string& subject() const { return subject_; }
  // The event's `data` member as JSON text: {"object":…} or {"object":…,"previous_attributes":…}.
  const std::string& data_json() const { return data_; }

 private:
  void check_type() const {
    if (type_.empty()) throw std::invalid_argument("an event needs a type");
  }
  void check_object(std::string_view text, const char* what) const {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{' || !nlohmann::json::accept(text)) {
      throw std::invalid_argument("event " + type_ + ": data." + what +
                                  " is not one JSON object in valid UTF-8");
    }
  }

  std::string type_;
  std::string partner_id_;
  std::string subject_;
  std::string data_;
};

// An event as stored (plugin API 1.1).
struct StoredEvent {
  std::int64_t sequence = 0;  // strictly increasing in commit order
  std::string id;             // "evt_..."
  std::string type;
  std::string partner_id;  // empty: a catalog event, visible to every partner
  std::string subject;
  std::string created_at;  // RFC 3339 UTC, whole seconds, fixed width ("2026-11-26T10:00:00Z")
  // The Standard Webhooks body, {id, type, created, api_version, data}: the exact bytes to send
  // and sign.
  std::string payload;
};

// A partner's view of the event log, newest first (plugin API 1.1).
struct EventFeedQuery {
  std::string partner_id{};          // its own events and the catalog's (partner_id '')
  std::int64_t before_sequence = 0;  // keyset: only sequence < this; 0 = from the newest
  std::vector<std::string> types{};  // empty: every type
  std::string created_since{};       // as created_at (RFC 3339 UTC seconds); empty: no lower bound
  int limit = 20;
};

class Outbox {
 public:
  virtual ~Outbox() = default;
  // Appends the event inside the caller's transaction and returns its id ("evt_...").
  virtual std::string append(Session& tx, const Event& event) = 0;

  // --- plugin API 1.1 -------------------------------------------------------------------------
  // Committed events with sequence > after, oldest first, at most `limit`: a consumer's position
  // in the log is the last sequence it has handled.
  virtual std::vector<StoredEvent> read_after(std::int64_t after, int limit) = 0;
  // One event by id, or nullopt.
  virtual std::optional<StoredEvent> find(std::string_view id) = 0;
  // The events a partner may see (its own and the catalog's), newest first.
  virtual std::vector<StoredEvent> feed(const EventFeedQuery& query) = 0;

  // --- plugin API 3.1 -------------------------------------------------------------------------
  // The same for an event prepared before the transaction: the writer only copies its text. The
  // core's outbox overrides it; the default (for an Outbox of a plugin's own, a test double)
  // hands the event back to append(tx, Event).
  virtual std::string append(Session& tx, const PreparedEvent& event) {
    nlohmann::json data = nlohmann::json::parse(event.data_json());
    Event plain{event.type(), event.partner_id(), event.subject(), std::move(data["object"]),
                nullptr};
    if (auto previous = data.find("previous_attributes"); previous != data.end()) {
      plain.previous_attributes = std::move(*previous);
    }
    return append(tx, plain);
  }
};

}  // namespace portico
