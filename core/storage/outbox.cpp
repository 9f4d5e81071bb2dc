// The SQL transactional outbox: events written through the caller's transaction as Standard
// Webhooks bodies, and read back in sequence (= commit) order.
#include "core/storage/outbox.hpp"

#include "core/util/random_id.hpp"
#include "core/util/time.hpp"
#include "portico/sdk/json.hpp"

namespace portico::storage {

SqlOutbox::SqlOutbox(std::shared_ptr<Database> db, Clock clock)
    : db_(std::move(db)), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

std::string SqlOutbox::append(Session& tx, const Event& event) {
  // Serialized here, inside the caller's transaction: a writer that prepares its event first
  // spares every other writer the wait.
  std::optional<PreparedEvent> prepared;
  try {
    prepared.emplace(event);
  } catch (const std::invalid_argument& error) {
    // No type, or invalid UTF-8 in the object: fail the caller's transaction rather than store a
    // bad body.
    throw DatabaseError(error.what());
  }
  return append(tx, *prepared);
}

std::string SqlOutbox::append(Session& tx, const PreparedEvent& event) {
  std::string id = util::time_ordered_id("evt_");
  std::string created = util::format_rfc3339(clock_());

  // {"api_version","created","data":{"object","previous_attributes"},"id","type"}: nlohmann::json's
  // sorted key order at every level the outbox writes, around the data as prepared.
  std::string payload_text;
  try {
    payload_text.reserve(event.data_json().size() + 160);
    payload_text += R"({"api_version":"v1","created":)";
    sdk::append_json_string(payload_text, created);
    payload_text += R"(,"data":)";
    payload_text += event.data_json();
    payload_text += R"(,"id":)";
    sdk::append_json_string(payload_text, id);
    payload_text += R"(,"type":)";
    sdk::append_json_string(payload_text, event.type());
    payload_text += '}';
  } catch (const nlohmann::json::exception& error) {
    // Invalid UTF-8 in the type.
    throw DatabaseError("event " + event.type() + " cannot be serialized: " + error.what());
  }

  tx.execute(
      "INSERT INTO outbox_events(id, type, partner_id, subject, payload, created_at)"
      " VALUES (?, ?, ?, ?, ?, ?)",
      {id, event.type(), event.partner_id(), event.subject(), std::move(payload_text), created});
  return id;
}

namespace {

constexpr const char* kColumns =
    "SELECT sequence, id, type, partner_id, subject, created_at, payload FROM outbox_events";

std::vector<StoredEvent> events_of(const Rows& rows) {
  std::vector<StoredEvent> events;
  events.reserve(rows.size());
  for (const auto& row : rows) {
    events.push_back({row.integer(0), row.text(1), row.text(2), row.text(3), row.text(4),
                      row.text(5), row.text(6)});
  }
  return events;
}

}  // namespace

std::vector<StoredEvent> SqlOutbox::read_after(std::int64_t after, int limit) {
  if (limit <= 0) return {};
  return events_of(
      db_->query(std::string(kColumns) + " WHERE sequence > ? ORDER BY sequence LIMIT ?",
                 {after, std::int64_t{limit}}));
}

std::optional<StoredEvent> SqlOutbox::find(std::string_view id) {
  auto events = events_of(db_->query(std::string(kColumns) + " WHERE id = ?", {std::string(id)}));
  if (events.empty()) return std::nullopt;
  return std::move(events.front());
}

std::vector<StoredEvent> SqlOutbox::feed(const EventFeedQuery& query) {
  if (query.limit <= 0) return {};
  // Two index range scans (the partner's own events, the catalog's), merged newest first.
  std::string sql = std::string(kColumns) + " WHERE partner_id IN (?, '')";
  Params params{query.partner_id};
  if (query.before_sequence > 0) {
    sql += " AND sequence < ?";
    params.emplace_back(query.before_sequence);
  }
  if (!query.created_since.empty()) {
    sql += " AND created_at >= ?";
    params.emplace_back(query.created_since);
  }
  if (!query.types.empty()) {
    sql += " AND type IN (";
    for (std::size_t i = 0; i < query.types.size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      params.emplace_back(query.types[i]);
    }
    sql += ")";
  }
  sql += " ORDER BY sequence DESC LIMIT ?";
  params.emplace_back(std::int64_t{query.limit});
  return events_of(db_->query(sql, params));
}

}  // namespace portico::storage
