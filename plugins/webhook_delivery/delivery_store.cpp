#include "plugins/webhook_delivery/delivery_store.hpp"

#include <nlohmann/json.hpp>

#include "portico/sdk/time.hpp"
#include "webhooks_common/event_types.hpp"
#include "webhooks_common/retry_schedule.hpp"

namespace portico::webhook_delivery {

namespace {

constexpr const char* kPositionName = "outbox_position";
constexpr const char* kFailingForFiveDays = "failing for 5 days";

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Value optional_value(const std::optional<int>& v) {
  if (!v) return nullptr;
  return std::int64_t{*v};
}

Value text_or_null(const std::string& text) {
  if (text.empty()) return nullptr;
  return text;
}

// Disables an enabled endpoint; returns its row afterwards, or nullopt when it was not enabled.
std::optional<Row> disable_endpoint(Session& tx, const std::string& endpoint_id,
                                    const std::string& reason, const std::string& now_text) {
  auto changed = tx.execute(
      "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = ?,"
      " failing_since = COALESCE(failing_since, ?), updated_at = ?"
      " WHERE id = ? AND status = 'enabled'",
      {reason, now_text, now_text, endpoint_id});
  if (changed == 0) return std::nullopt;
  auto rows = tx.query(
      "SELECT id, partner_id, url, events, description, status, disabled_reason, failing_since,"
      " created_at, updated_at FROM webhook_endpoints WHERE id = ?",
      {endpoint_id});
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

// The partner's view of an endpoint (CONTRACT.md: {id, url, events, description, status,
// created_at}) plus why and since when it failed; never a secret.
nlohmann::json endpoint_view(const Row& row) {
  auto events = nlohmann::json::parse(row.text("events"), nullptr, false);
  if (events.is_discarded()) events = nlohmann::json::array();
  nlohmann::json view = {{"id", row.text("id")},
                         {"url", row.text("url")},
                         {"events", std::move(events)},
                         {"description", row.text("description")},
                         {"status", row.text("status")},
                         {"disabled_reason", nullptr},
                         {"failing_since", nullptr},
                         {"created_at", row.text("created_at")},
                         {"updated_at", row.text("updated_at")}};
  if (auto reason = row.optional_text("disabled_reason")) view["disabled_reason"] = *reason;
  if (auto since = row.optional_text("failing_since")) view["failing_since"] = *since;
  return view;
}

}  // namespace

std::vector<Migration> delivery_migrations() {
  return {
      {1, "the delivery service's position in the outbox",
       R"sql(
CREATE TABLE webhook_delivery_state (
  name  TEXT PRIMARY KEY,   -- 'outbox_position': the last outbox sequence fanned out
  value INTEGER NOT NULL
);
INSERT INTO webhook_delivery_state(name, value) VALUES ('outbox_position', 0);
)sql"},
  };
}

void require_webhook_tables(Database& db) {
  try {
    db.query(
        "SELECT 1 FROM webhook_endpoints e JOIN webhook_deliveries d ON d.endpoint_id = e.id"
        " JOIN webhook_attempts a ON a.delivery_id = d.id WHERE 0 = 1");
  } catch (const DatabaseError&) {
    throw std::runtime_error(
        "webhook_delivery needs the webhook tables (webhook_endpoints, webhook_deliveries, "
        "webhook_attempts) of routes_webhooks: enable [plugins.routes_webhooks] too");
  }
}

void ensure_delivery_indexes(Database& db) {
  // Per-endpoint scheduling (due rows, next due time) without walking the delivered history.
  db.execute(
      "CREATE INDEX IF NOT EXISTS webhook_deliveries_pending_by_endpoint"
      " ON webhook_deliveries(endpoint_id, next_attempt_at) WHERE state = 'pending'");
}

std::int64_t load_position(Session& db) {
  auto rows = db.query("SELECT value FROM webhook_delivery_state WHERE name = ?", {kPositionName});
  return rows.empty() ? 0 : rows.front().integer(0);
}

void advance_position(Session& tx, std::int64_t expected, std::int64_t next) {
  auto changed =
      tx.execute("UPDATE webhook_delivery_state SET value = ? WHERE name = ? AND value = ?",
                 {next, kPositionName, expected});
  if (changed == 1) return;
  if (expected == 0 &&
      tx.query("SELECT 1 FROM webhook_delivery_state WHERE name = ?", {kPositionName}).empty()) {
    tx.execute("INSERT INTO webhook_delivery_state(name, value) VALUES (?, ?)",
               {kPositionName, next});
    return;
  }
  throw PositionMoved();
}

std::vector<FanOutEndpoint> enabled_endpoints(Session& db) {
  std::vector<FanOutEndpoint> endpoints;
  for (const auto& row : db.query("SELECT id, partner_id, events, created_at FROM webhook_endpoints"
                                  " WHERE status = 'enabled'")) {
    endpoints.push_back(fan_out_endpoint(row.text(0), row.text(1), row.text(2), row.text(3)));
  }
  return endpoints;
}

std::optional<std::int64_t> latest_pending_of_key(Session& tx, const std::string& endpoint_id,
                                                  const std::string& ordering_key) {
  auto rows = tx.query(
      "SELECT MAX(next_attempt_at) FROM webhook_deliveries"
      " WHERE endpoint_id = ? AND ordering_key = ? AND state = 'pending'",
      {endpoint_id, ordering_key});
  if (rows.empty() || rows.front().is_null(0)) return std::nullopt;
  return rows.front().integer(0);
}

void insert_delivery(Session& tx, const std::string& endpoint_id, const StoredEvent& event,
                     std::int64_t due_ms, std::chrono::system_clock::time_point now) {
  const std::string now_text = sdk::format_timestamp(now);
  tx.execute(
      "INSERT INTO webhook_deliveries(endpoint_id, event_id, event_sequence, ordering_key, state,"
      " attempts, next_attempt_at, created_at, updated_at)"
      " VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
      {endpoint_id, event.id, event.sequence, event.subject, due_ms, now_text, now_text});
}

std::vector<std::string> enabled_endpoint_ids(Session& db) {
  std::vector<std::string> ids;
  for (const auto& row :
       db.query("SELECT id FROM webhook_endpoints WHERE status = 'enabled' ORDER BY id")) {
    ids.push_back(row.text(0));
  }
  return ids;
}

std::vector<DueDelivery> due_deliveries(Session& db, const std::string& endpoint_id,
                                        std::int64_t now_ms, int limit, const std::string& owner) {
  std::vector<DueDelivery> due;
  if (limit <= 0) return due;
  auto rows = db.query(
      "SELECT d.id, d.event_id, d.event_sequence, d.ordering_key, d.attempts, e.url, e.secret,"
      " e.previous_secret, e.previous_secret_expires_at, e.signing_key"
      " FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
      " WHERE d.endpoint_id = ? AND d.state = 'pending' AND d.next_attempt_at <= ?"
      " AND e.status = 'enabled'"
      " AND (d.lease_until IS NULL OR d.lease_until <= ? OR d.lease_owner = ?)"
      " AND (d.ordering_key = '' OR NOT EXISTS ("
      "   SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id"
      "   AND p.ordering_key = d.ordering_key AND p.state = 'pending'"
      "   AND p.event_sequence < d.event_sequence))"
      " ORDER BY d.next_attempt_at, d.id LIMIT ?",
      {endpoint_id, now_ms, now_ms, owner, std::int64_t{limit}});
  due.reserve(rows.size());
  for (const auto& row : rows) {
    DueDelivery d;
    d.id = row.integer(0);
    d.endpoint_id = endpoint_id;
    d.event_id = row.text(1);
    d.event_sequence = row.integer(2);
    d.ordering_key = row.text(3);
    d.attempts = static_cast<int>(row.integer(4));
    d.url = row.text(5);
    d.secret = row.text(6);
    d.previous_secret = row.optional_text(7);
    d.previous_secret_expires_at = row.optional_text(8);
    d.signing_key = row.optional_text(9);
    due.push_back(std::move(d));
  }
  return due;
}

std::vector<std::int64_t> claim_deliveries(Session& tx, const std::vector<std::int64_t>& ids,
                                           const std::string& owner, std::int64_t now_ms,
                                           std::int64_t until_ms) {
  std::vector<std::int64_t> claimed;
  claimed.reserve(ids.size());
  for (const std::int64_t id : ids) {
    const std::int64_t changed = tx.execute(
        "UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ?"
        " WHERE id = ? AND state = 'pending'"
        " AND (lease_until IS NULL OR lease_until <= ? OR lease_owner = ?)",
        {owner, until_ms, id, now_ms, owner});
    if (changed == 1) claimed.push_back(id);
  }
  return claimed;
}

void release_deliveries(Session& tx, const std::vector<std::int64_t>& ids,
                        const std::string& owner) {
  for (const std::int64_t id : ids) {
    tx.execute(
        "UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL"
        " WHERE id = ? AND lease_owner = ?",
        {id, owner});
  }
}

void renew_deliveries(Session& tx, const std::string& owner, std::int64_t until_ms) {
  tx.execute(
      "UPDATE webhook_deliveries SET lease_until = ? WHERE lease_owner = ? AND state = 'pending'",
      {until_ms, owner});
}

std::vector<std::string> lease_owners(Session& db, const std::string& prefix,
                                      std::int64_t now_ms) {
  std::vector<std::string> owners;
  for (const Row& row : db.query("SELECT DISTINCT lease_owner FROM webhook_deliveries"
                                 " WHERE state = 'pending' AND lease_until > ?"
                                 " AND substr(lease_owner, 1, length(?)) = ?",
                                 {now_ms, prefix, prefix})) {
    owners.push_back(row.text(0));
  }
  return owners;
}

void release_owner(Session& tx, const std::string& owner) {
  tx.execute(
      "UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
      {owner});
}

std::optional<std::int64_t> next_due_at(Session& db, const std::string& endpoint_id,
                                        std::int64_t now_ms) {
  auto rows = db.query(
      "SELECT MIN(next_attempt_at) FROM webhook_deliveries"
      " WHERE endpoint_id = ? AND state = 'pending' AND next_attempt_at > ?",
      {endpoint_id, now_ms});
  if (rows.empty() || rows.front().is_null(0)) return std::nullopt;
  return rows.front().integer(0);
}

RecordEffect record_attempt(Session& tx, Outbox& outbox, const FinishedAttempt& attempt,
                            std::chrono::system_clock::time_point now) {
  RecordEffect effect;
  const AttemptOutcome& outcome = attempt.outcome;
  const std::string now_text = sdk::format_timestamp(now);
  const std::int64_t now_ms = unix_ms(now);

  const char* state = "failed";
  std::int64_t next_attempt_at = now_ms;
  if (outcome.verdict == Verdict::succeeded) state = "succeeded";
  if (outcome.verdict == Verdict::retry) {
    state = "pending";
    next_attempt_at = now_ms + outcome.retry_in.count();
  }
  auto changed = tx.execute(
      "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?,"
      " last_status = ?, last_error = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL"
      " WHERE id = ? AND state = 'pending'",
      {std::string(state), next_attempt_at, optional_value(outcome.status_code),
       text_or_null(outcome.error), now_text, attempt.delivery_id});
  if (changed == 0) return effect;  // endpoint deleted meanwhile, or settled by someone else
  effect.recorded = true;
  tx.execute(
      "INSERT INTO webhook_attempts(delivery_id, endpoint_id, event_id, attempt, at, status_code,"
      " latency_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {attempt.delivery_id, attempt.endpoint_id, attempt.event_id, std::int64_t{attempt.attempt},
       sdk::format_timestamp(attempt.at), optional_value(outcome.status_code),
       std::int64_t{attempt.latency.count()}, text_or_null(outcome.error)});

  if (outcome.verdict == Verdict::succeeded) {
    tx.execute(
        "UPDATE webhook_endpoints SET failing_since = NULL"
        " WHERE id = ? AND failing_since IS NOT NULL",
        {attempt.endpoint_id});
    return effect;
  }
  if (outcome.verdict == Verdict::retry && !attempt.ordering_key.empty()) {
    // Later events of the key wait for this one: keep them out of the due set until its retry.
    tx.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = ?"
        " WHERE endpoint_id = ? AND ordering_key = ? AND state = 'pending'"
        " AND event_sequence > ? AND next_attempt_at < ?",
        {next_attempt_at, attempt.endpoint_id, attempt.ordering_key, attempt.event_sequence,
         next_attempt_at});
  }
  if (outcome.verdict == Verdict::gone) {
    if (disable_endpoint(tx, attempt.endpoint_id, outcome.error, now_text)) {
      effect.endpoint_disabled = outcome.error;
    }
    return effect;
  }
  tx.execute(
      "UPDATE webhook_endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL",
      {now_text, attempt.endpoint_id});
  auto rows =
      tx.query("SELECT failing_since FROM webhook_endpoints WHERE id = ? AND status = 'enabled'",
               {attempt.endpoint_id});
  if (rows.empty()) return effect;
  auto since = sdk::parse_timestamp(rows.front().text(0));
  if (!since || *since + webhooks::kDisableAfter > now) return effect;
  auto disabled = disable_endpoint(tx, attempt.endpoint_id, kFailingForFiveDays, now_text);
  if (!disabled) return effect;
  effect.endpoint_disabled = kFailingForFiveDays;
  Event event;
  event.type = std::string(webhooks::kEndpointDisabledEventType);
  event.partner_id = disabled->text("partner_id");
  event.subject = attempt.endpoint_id;
  event.object = endpoint_view(*disabled);
  outbox.append(tx, event);
  return effect;
}

}  // namespace portico::webhook_delivery
