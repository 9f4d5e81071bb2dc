// Business events and the transactional outbox: a plugin writes its change and its event through
// the same Session, so both commit or neither does. Consumers (webhook delivery, the events API)
// read events back in commit order.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
};

}  // namespace portico
