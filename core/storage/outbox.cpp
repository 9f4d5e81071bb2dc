// The SQL transactional outbox: events written through the caller's transaction as Standard
// Webhooks bodies, and read back in sequence (= commit) order.
#include "core/storage/outbox.hpp"

#include "core/util/random_id.hpp"
#include "core/util/time.hpp"

namespace portico::storage {

SqlOutbox::SqlOutbox(Clock clock) : clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

std::string SqlOutbox::append(Session& tx, const Event& event) {
  if (event.type.empty()) throw DatabaseError("an event needs a type");
  std::string id = util::random_id("evt_");
  std::string created = util::format_rfc3339(clock_());

  nlohmann::json data = {{"object", event.object}};
  if (!event.previous_attributes.is_null()) {
    data["previous_attributes"] = event.previous_attributes;
  }
  nlohmann::json payload = {{"id", id},
                            {"type", event.type},
                            {"created", created},
                            {"api_version", "v1"},
                            {"data", std::move(data)}};
  std::string payload_text;
  try {
    payload_text = payload.dump();
  } catch (const nlohmann::json::exception& error) {
    // Invalid UTF-8 in the object: fail the caller's transaction rather than store a bad body.
    throw DatabaseError("event " + event.type + " cannot be serialized: " + error.what());
  }

  tx.execute(
      "INSERT INTO outbox_events(id, type, partner_id, subject, payload, created_at)"
      " VALUES (?, ?, ?, ?, ?, ?)",
      {id, event.type, event.partner_id, event.subject, std::move(payload_text), created});
  return id;
}

std::vector<StoredEvent> read_events_after(Session& db, std::int64_t after, int limit) {
  std::vector<StoredEvent> events;
  if (limit <= 0) return events;
  auto rows = db.query(
      "SELECT sequence, id, type, partner_id, subject, created_at, payload FROM outbox_events"
      " WHERE sequence > ? ORDER BY sequence LIMIT ?",
      {after, std::int64_t{limit}});
  events.reserve(rows.size());
  for (const auto& row : rows) {
    StoredEvent event;
    event.sequence = row.integer(0);
    event.id = row.text(1);
    event.type = row.text(2);
    event.partner_id = row.text(3);
    event.subject = row.text(4);
    event.created_at = row.text(5);
    try {
      event.payload = nlohmann::json::parse(row.text(6));
    } catch (const nlohmann::json::exception& error) {
      throw DatabaseError("outbox event " + event.id + " has a malformed payload: " + error.what());
    }
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace portico::storage
