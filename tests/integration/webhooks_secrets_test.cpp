// Webhook signing secrets at rest, through the real binary: the database file (and its WAL) never
// holds a secret or signing key in any readable form — checked byte for byte and through SQLite —
// while the deliveries signed with them still verify; and a data key rotation (the old key moved
// to security.previous_data_keys, a new data_key, restart) re-seals every stored secret under the
// new key, after which the old key can be dropped.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "portico/sdk/secret_box.hpp"
#include "tests/integration/gateway_fixture.hpp"
#include "tests/integration/products_helpers.hpp"
#include "tests/integration/webhook_receiver.hpp"
#include "lib/webhook_signing/signing.hpp"

namespace portico::test::webhooks_secrets {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
using products::Admin;
using products::query_db;

// Two data keys as an operator writes them (`openssl rand -hex 32`).
const std::string kOldKey = "5f0c7b1e9a2d4c6e8f1a3b5d7c9e0f2a4b6d8e0f1a2b3c4d5e6f708192a3b4c5";
const std::string kNewKey = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

std::string raw_key(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

std::string key_prefix(const std::string& hex) {
  return "sealed:v1:" + sdk::SecretBox::key_id(raw_key(hex)) + ":";
}

using receiver::Received;
using receiver::Receiver;

std::vector<std::string> args(std::vector<std::string> extra) {
  std::vector<std::string> all{"--set", "security.client_ip_limit=1000000000",
                               "--set", "plugins.routes_webhooks.allow_private_targets=true",
                               "--set", "plugins.webhook_delivery.allow_private_targets=true",
                               "--set", "plugins.webhook_delivery.poll_interval=20ms"};
  all.insert(all.end(), extra.begin(), extra.end());
  return all;
}

HttpResponse call(Gateway& gw, const std::string& key, const std::string& method,
                  const std::string& target, const std::optional<json>& body = std::nullopt) {
  Headers headers{{"X-API-Key", key}};
  if (body) headers.emplace_back("Content-Type", "application/json");
  return http_request(gw.port, method, target, headers, body ? body->dump() : std::string());
}

// A partner's API key on `gw`.
std::string partner_key(Gateway& gw) {
  Admin admin{gw.admin_port};
  auto res =
      admin.call("POST", "/partners",
                 {{"name", "Hook Shop"}, {"tier", "premium"}, {"rate_limit_override", 1000000000}});
  EXPECT_EQ(res.status, 201) << res.body;
  const std::string partner = json::parse(res.body)["id"];
  res = admin.call("POST", "/partners/" + partner + "/keys", json::object());
  EXPECT_EQ(res.status, 201) << res.body;
  return json::parse(res.body)["key"];
}

struct EndpointSecrets {
  std::string id;
  std::string secret;           // current
  std::string previous_secret;  // signing alongside after the rotation
  std::string public_key;       // v1a
};

// An endpoint on `receiver` with v1a, its secret rotated once: three stored secrets.
EndpointSecrets create_endpoint(Gateway& gw, const std::string& key, Receiver& receiver) {
  EndpointSecrets e;
  auto res = call(gw, key, "POST", "/v1/webhooks",
                  json{{"url", receiver.url()}, {"events", {"*"}}, {"ed25519", true}});
  EXPECT_EQ(res.status, 201) << res.body;
  json created = json::parse(res.body);
  e.id = created["id"];
  e.previous_secret = created["secret"];
  e.public_key = created["public_key"];
  res = call(gw, key, "POST", "/v1/webhooks/" + e.id + "/rotate-secret");
  EXPECT_EQ(res.status, 200) << res.body;
  e.secret = json::parse(res.body)["secret"];
  return e;
}

// Sends a webhook.test event and checks every signature it carries against the partner's keys:
// v1 with the new secret, v1 with the previous one, v1a with the public key.
void expect_signed_delivery(Gateway& gw, const std::string& key, Receiver& receiver,
                            const EndpointSecrets& e) {
  auto res = call(gw, key, "POST", "/v1/webhooks/" + e.id + "/test");
  ASSERT_EQ(res.status, 202) << res.body;
  const std::string event_id = json::parse(res.body)["event_id"];
  auto got = receiver.wait_for(event_id, std::chrono::seconds(10));
  ASSERT_TRUE(got) << "no delivery within 10 s; gateway output:\n" << gw.process->output();
  std::vector<std::string> signatures;
  for (std::size_t start = 0; start <= got->signature.size();) {
    auto end = got->signature.find(' ', start);
    if (end == std::string::npos) end = got->signature.size();
    signatures.push_back(got->signature.substr(start, end - start));
    start = end + 1;
  }
  ASSERT_EQ(signatures.size(), 3u) << got->signature;
  EXPECT_TRUE(webhooks::verify(signatures[0], {e.secret}, {}, got->id, got->timestamp, got->body));
  EXPECT_TRUE(
      webhooks::verify(signatures[1], {e.previous_secret}, {}, got->id, got->timestamp, got->body));
  EXPECT_TRUE(
      webhooks::verify(signatures[2], {}, {e.public_key}, got->id, got->timestamp, got->body));
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every text and blob value of every table, through SQLite.
std::string every_value(const fs::path& db_file) {
  std::string all;
  for (const auto& table :
       query_db(db_file, "SELECT name FROM sqlite_master WHERE type = 'table'")) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* statement = nullptr;
    const std::string sql = "SELECT * FROM \"" + table[0] + "\"";
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK) << sql;
    while (statement && sqlite3_step(statement) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(statement); ++c) {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(statement, c));
        all.append(data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(statement, c)));
        all.push_back('\n');
      }
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
  }
  return all;
}

// What must never be found at rest: each secret, its base64 payload and the raw HMAC key.
std::vector<std::string> forbidden(const EndpointSecrets& e) {
  std::vector<std::string> needles;
  for (const auto& secret : {e.secret, e.previous_secret}) {
    needles.push_back(secret);
    needles.push_back(secret.substr(6));
    needles.push_back(*webhooks::decode_secret(secret));
  }
  return needles;
}

// Whether `bytes` holds `prefix` followed by base64 — any plain "whsec_…" secret or "whsk_…"
// signing key (the schema's comments, which SQLite keeps, mention the prefixes alone).
bool holds_plain(const std::string& bytes, const std::string& prefix) {
  for (auto at = bytes.find(prefix); at != std::string::npos; at = bytes.find(prefix, at + 1)) {
    const std::string after = bytes.substr(at + prefix.size(), 20);
    if (after.size() == 20 && std::all_of(after.begin(), after.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '+' || c == '/';
        })) {
      return true;
    }
  }
  return false;
}

void expect_nothing_readable(const fs::path& dir, const EndpointSecrets& e) {
  const fs::path db_file = dir / "portico.db";
  std::vector<std::pair<std::string, std::string>> places;  // name, bytes
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with("portico.db")) {  // the db, -wal, -shm
      places.emplace_back(entry.path().filename().string(), file_bytes(entry.path()));
    }
  }
  ASSERT_GE(places.size(), 1u);
  places.emplace_back("every SQLite value", every_value(db_file));
  for (const auto& [name, bytes] : places) {
    for (const auto& needle : forbidden(e)) {
      EXPECT_EQ(bytes.find(needle), std::string::npos)
          << name << " holds a secret (" << needle.size() << " bytes)";
    }
    EXPECT_FALSE(holds_plain(bytes, "whsec_")) << name << " holds a plain whsec_ secret";
    EXPECT_FALSE(holds_plain(bytes, "whsk_")) << name << " holds a plain whsk_ signing key";
  }
}

TEST(WebhookSecretsAtRest, TheDatabaseHoldsNoSecretAndDeliveriesStillVerify) {
  Receiver receiver;
  receiver.set_hang(false);
  Gateway gw(args({}));
  // The demo config names no key: one is generated next to the database, readable by us only.
  const fs::path key_file = gw.dir / "data.key";
  ASSERT_TRUE(fs::exists(key_file)) << gw.process->output();
  struct stat info {};
  ASSERT_EQ(::stat(key_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_NE(gw.process->output().find("generated a data key at " + key_file.string()),
            std::string::npos)
      << gw.process->output();

  const std::string key = partner_key(gw);
  const EndpointSecrets e = create_endpoint(gw, key, receiver);
  expect_signed_delivery(gw, key, receiver, e);

  const auto rows = query_db(gw.dir / "portico.db",
                             "SELECT secret, previous_secret, signing_key FROM webhook_endpoints "
                             "WHERE id = '" +
                                 e.id + "'");
  ASSERT_EQ(rows.size(), 1u);
  for (const auto& value : rows[0]) EXPECT_TRUE(value.starts_with("sealed:v1:")) << value;
  expect_nothing_readable(gw.dir.path(), e);
  // Nor in the logs.
  EXPECT_EQ(gw.process->output().find(e.secret.substr(6)), std::string::npos);

  // The generated key is kept: after a restart the same secrets still sign.
  gw.restart();
  expect_signed_delivery(gw, key, receiver, e);
}

TEST(WebhookSecretsAtRest, ADataKeyRotationResealsEverySecretUnderTheNewKey) {
  Receiver receiver;
  receiver.set_hang(false);
  std::optional<Gateway> before;
  before.emplace(args({"--set", "security.data_key=" + kOldKey}));
  EXPECT_FALSE(fs::exists(before->dir / "data.key"));  // a configured key: no file
  const std::string key = partner_key(*before);
  const EndpointSecrets e = create_endpoint(*before, key, receiver);
  const fs::path db_file = before->dir / "portico.db";
  const std::string sql =
      "SELECT secret, previous_secret, signing_key FROM webhook_endpoints WHERE id = '" + e.id +
      "'";
  auto rows = query_db(db_file, sql);
  ASSERT_EQ(rows.size(), 1u);
  for (const auto& value : rows[0]) {
    EXPECT_TRUE(value.starts_with(key_prefix(kOldKey))) << value;
  }
  expect_signed_delivery(*before, key, receiver, e);
  before->process.reset();  // stopped; its directory (and database) stays while `before` lives

  // The operator rotates: the new key in data_key, the old one in previous_data_keys, restart.
  const std::vector<std::string> same_database{"--set", "storage.path=" + db_file.string()};
  {
    auto rotation = same_database;
    for (const std::string& a :
         {std::string("--set"), "security.data_key=" + kNewKey, std::string("--set"),
          "security.previous_data_keys=[\"" + kOldKey + "\"]"}) {
      rotation.push_back(a);
    }
    Gateway rotated(args(rotation));
    rows = query_db(db_file, sql);
    ASSERT_EQ(rows.size(), 1u);
    for (const auto& value : rows[0]) {
      EXPECT_TRUE(value.starts_with(key_prefix(kNewKey))) << value;
    }
    expect_signed_delivery(rotated, key, receiver, e);
    expect_nothing_readable(before->dir.path(), e);
  }

  // Every value is under the new key now, so the old one can be dropped.
  auto new_only = same_database;
  new_only.push_back("--set");
  new_only.push_back("security.data_key=" + kNewKey);
  Gateway after(args(new_only));
  expect_signed_delivery(after, key, receiver, e);
  EXPECT_EQ(after.process->output().find("cannot be opened"), std::string::npos)
      << after.process->output();
}

TEST(WebhookSecretsAtRest, TheWrongDataKeyFailsTheEndpointNotTheGateway) {
  Receiver receiver;
  receiver.set_hang(false);
  std::optional<Gateway> before;
  before.emplace(args({"--set", "security.data_key=" + kOldKey}));
  const std::string key = partner_key(*before);
  const EndpointSecrets e = create_endpoint(*before, key, receiver);
  const fs::path db_file = before->dir / "portico.db";
  before->process.reset();

  // Restarted with another key and without the old one: the gateway runs, the endpoint's
  // deliveries fail (never unsigned), and the operator log names the endpoint.
  Gateway wrong(
      args({"--set", "storage.path=" + db_file.string(), "--set", "security.data_key=" + kNewKey}));
  auto res = call(wrong, key, "POST", "/v1/webhooks/" + e.id + "/test");
  ASSERT_EQ(res.status, 202) << res.body;
  const std::string event_id = json::parse(res.body)["event_id"];
  json attempt;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (attempt.is_null() && std::chrono::steady_clock::now() < deadline) {
    res = call(wrong, key, "GET", "/v1/webhooks/" + e.id + "/deliveries?event_id=" + event_id);
    ASSERT_EQ(res.status, 200) << res.body;
    json log = json::parse(res.body);
    if (!log["data"].empty()) attempt = log["data"][0];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(attempt.is_null()) << wrong.process->output();
  EXPECT_TRUE(attempt["status_code"].is_null()) << attempt.dump();
  EXPECT_EQ(attempt["delivery_state"], "pending") << attempt.dump();
  EXPECT_NE(attempt["error"].get<std::string>().find("signing secret"), std::string::npos)
      << attempt.dump();
  EXPECT_FALSE(receiver.wait_for(event_id, std::chrono::milliseconds(300)));
  const std::string output = wrong.process->output();
  EXPECT_NE(output.find("webhook endpoint " + e.id), std::string::npos) << output;
  EXPECT_NE(output.find("cannot be opened"), std::string::npos) << output;
}

}  // namespace
}  // namespace portico::test::webhooks_secrets
