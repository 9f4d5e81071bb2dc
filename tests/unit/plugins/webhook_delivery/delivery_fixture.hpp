// Test bed for the delivery engine: a real SQLite database with the core outbox, routes_webhooks'
// tables and the delivery plugin's own, a FakeHost whose clock the tests move, endpoint and event
// helpers, and a loopback receiver that verifies every signature before its scripted answer.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/storage/migrations.hpp"
#include "core/storage/outbox.hpp"
#include "core/storage/sqlite_database.hpp"
#include "plugins/routes_webhooks/webhook_schema.hpp"
#include "plugins/webhook_delivery/delivery_engine.hpp"
#include "plugins/webhook_delivery/delivery_store.hpp"
#include "portico/sdk/sodium.hpp"
#include "portico/sdk/testing.hpp"
#include "portico/sdk/time.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/http_receiver.hpp"
#include "lib/webhook_signing/signing.hpp"

namespace portico::webhook_delivery::testbed {

using namespace std::chrono_literals;
using webhooks::test::ReceivedRequest;
using webhooks::test::Reply;

inline Reply reply(int status, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Reply r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = "";
  return r;
}

// Answers 401 to anything whose signature does not verify against the keys trusted for its
// path; otherwise the script decides (200 by default).
class VerifyingReceiver {
 public:
  using Script = std::function<Reply(const ReceivedRequest&)>;

  VerifyingReceiver() : receiver_([this](const ReceivedRequest& r) { return answer(r); }) {}

  void trust(const std::string& path, std::vector<std::string> secrets,
             std::vector<std::string> public_keys = {}) {
    std::lock_guard lock(mutex_);
    keys_[path] = {std::move(secrets), std::move(public_keys)};
  }
  void script(Script script) {
    std::lock_guard lock(mutex_);
    script_ = std::move(script);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(receiver_.port()) + path;
  }
  std::uint16_t port() const { return receiver_.port(); }
  int rejected() const { return rejected_.load(); }
  std::vector<ReceivedRequest> requests() const { return receiver_.requests(); }
  std::vector<ReceivedRequest> requests_to(const std::string& path) const {
    std::vector<ReceivedRequest> found;
    for (auto& r : receiver_.requests()) {
      if (r.target == path) found.push_back(r);
    }
    return found;
  }
  std::size_t count() const { return receiver_.request_count(); }

 private:
  Reply answer(const ReceivedRequest& request) {
    Script script;
    std::pair<std::vector<std::string>, std::vector<std::string>> keys;
    {
      std::lock_guard lock(mutex_);
      script = script_;
      if (auto it = keys_.find(request.target); it != keys_.end()) keys = it->second;
    }
    const bool valid =
        webhooks::verify(request.header("webhook-signature").value_or(""), keys.first, keys.second,
                         request.header("webhook-id").value_or(""),
                         request.header("webhook-timestamp").value_or(""), request.body);
    if (!valid) {
      ++rejected_;
      return reply(401);
    }
    return script ? script(request) : reply(200);
  }

  std::mutex mutex_;
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> keys_;
  Script script_;
  std::atomic<int> rejected_{0};
  webhooks::test::Receiver receiver_;  // last: its threads use the members above
};

// What add_endpoint creates: EndpointSpec().partner("ptn_2").events({"order.*"}).
struct EndpointSpec {
  std::string partner_id = "ptn_1";
  std::string target_url;
  std::vector<std::string> filters{"*"};
  bool with_ed25519 = false;
  bool with_rotation = false;  // a previous secret that still signs for 24 h
  std::optional<std::chrono::system_clock::time_point> created_at;  // default: host.now()

  EndpointSpec& partner(std::string id) {
    partner_id = std::move(id);
    return *this;
  }
  EndpointSpec& url(std::string text) {
    target_url = std::move(text);
    return *this;
  }
  EndpointSpec& events(std::vector<std::string> list) {
    filters = std::move(list);
    return *this;
  }
  EndpointSpec& ed25519() {
    with_ed25519 = true;
    return *this;
  }
  EndpointSpec& rotating() {
    with_rotation = true;
    return *this;
  }
};

struct EndpointInfo {
  std::string id;
  std::string secret;
  std::string previous_secret;  // when rotating
  std::string public_key;       // when ed25519
};

class DeliveryTest : public ::testing::Test {
 protected:
  DeliveryTest() {
    sdk::initialise_sodium();
    db_ = storage::open_sqlite({(dir_ / "portico.db").string()});
    storage::apply_migrations(*db_, "core", storage::core_migrations());
    storage::apply_migrations(*db_, "routes_webhooks", routes_webhooks::webhook_migrations());
    storage::apply_migrations(*db_, "webhook_delivery", delivery_migrations());
    outbox_ = std::make_shared<storage::SqlOutbox>(db_, [this] { return host_.now(); });
    host_.use_database(db_);
    host_.use_outbox(outbox_);
  }

  // Deterministic jitter (0.5 → exactly the scheduled delay), loopback allowed, a short grace.
  static DeliverySettings settings(bool allow_private = true) {
    DeliverySettings s;
    s.allow_private_targets = allow_private;
    s.jitter = [] { return 0.5; };
    s.stop_grace = 200ms;
    return s;
  }

  // Secrets are stored as routes_webhooks stores them: sealed (here under the FakeHost's key);
  // `seal` = false stores them in plain text, as rows from before sealing existed.
  EndpointInfo add_endpoint(const EndpointSpec& spec, bool seal = true) {
    EndpointInfo info;
    info.id = sdk::random_id("we_");
    info.secret = webhooks::generate_secret();
    auto stored = [&](const std::string& secret) {
      return seal ? host_.seal_secret(secret) : secret;
    };
    const std::string created = sdk::format_timestamp(spec.created_at.value_or(host_.now()));
    Value previous = nullptr, previous_expires = nullptr, signing = nullptr, public_key = nullptr;
    if (spec.with_rotation) {
      info.previous_secret = webhooks::generate_secret();
      previous = stored(info.previous_secret);
      previous_expires = sdk::format_timestamp(host_.now() + 24h);
    }
    if (spec.with_ed25519) {
      auto keys = webhooks::generate_ed25519_keys();
      info.public_key = keys.public_key;
      signing = stored(keys.secret_key);
      public_key = keys.public_key;
    }
    nlohmann::json events = spec.filters;
    db_->execute(
        "INSERT INTO webhook_endpoints(id, partner_id, url, events, status, secret,"
        " previous_secret, previous_secret_expires_at, signing_key, public_key, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, 'enabled', ?, ?, ?, ?, ?, ?, ?)",
        {info.id, spec.partner_id, spec.target_url, events.dump(), stored(info.secret), previous,
         previous_expires, signing, public_key, created, created});
    return info;
  }

  // An endpoint at `path` of `receiver`, trusted by it with the endpoint's keys.
  EndpointInfo add_endpoint(VerifyingReceiver& receiver, const std::string& path,
                            EndpointSpec spec = {}, bool seal = true) {
    spec.url(receiver.url(path));
    auto info = add_endpoint(spec, seal);
    std::vector<std::string> secrets{info.secret};
    if (!info.previous_secret.empty()) secrets.push_back(info.previous_secret);
    std::vector<std::string> public_keys;
    if (!info.public_key.empty()) public_keys.push_back(info.public_key);
    receiver.trust(path, secrets, public_keys);
    return info;
  }

  std::string emit(const std::string& type, const std::string& partner, const std::string& subject,
                   nlohmann::json object = nlohmann::json::object()) {
    std::string id;
    db_->transaction([&](Session& tx) {
      Event event;
      event.type = type;
      event.partner_id = partner;
      event.subject = subject;
      event.object = std::move(object);
      id = outbox_->append(tx, event);
    });
    return id;
  }

  struct DeliveryRow {
    std::string state;
    int attempts = 0;
    std::int64_t next_attempt_at = 0;
    std::optional<std::int64_t> last_status;
    std::optional<std::string> last_error;
  };
  std::optional<DeliveryRow> delivery(const std::string& event_id, const std::string& endpoint) {
    auto rows = db_->query(
        "SELECT state, attempts, next_attempt_at, last_status, last_error FROM webhook_deliveries"
        " WHERE event_id = ? AND endpoint_id = ?",
        {event_id, endpoint});
    if (rows.empty()) return std::nullopt;
    const Row& r = rows.front();
    return DeliveryRow{r.text(0), static_cast<int>(r.integer(1)), r.integer(2),
                       r.optional_integer(3), r.optional_text(4)};
  }
  Rows attempts(const std::string& endpoint) {
    return db_->query(
        "SELECT attempt, at, status_code, latency_ms, error, event_id FROM webhook_attempts"
        " WHERE endpoint_id = ? ORDER BY id",
        {endpoint});
  }
  std::int64_t scalar(const std::string& sql, const Params& params = {}) {
    return db_->query(sql, params).front().integer(0);
  }
  Row endpoint_row(const std::string& id) {
    return db_
        ->query(
            "SELECT status, disabled_reason, failing_since FROM webhook_endpoints"
            " WHERE id = ?",
            {id})
        .front();
  }
  std::int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(host_.now().time_since_epoch())
        .count();
  }

  // Rounds of fan-out, dispatch and waiting for the answers until a round starts nothing.
  static std::size_t drain(DeliveryEngine& engine) {
    std::size_t started = 0;
    for (int round = 0; round < 200; ++round) {
      while (engine.fan_out_once() > 0) {
      }
      const std::size_t n = engine.dispatch_once();
      EXPECT_TRUE(engine.wait_idle(30s));
      if (n == 0) break;
      started += n;
    }
    return started;
  }

  portico::test::TempDir dir_;
  std::shared_ptr<Database> db_;
  std::shared_ptr<storage::SqlOutbox> outbox_;
  sdk::testing::FakeHost host_{"webhook_delivery", nlohmann::json::object()};
};

}  // namespace portico::webhook_delivery::testbed
