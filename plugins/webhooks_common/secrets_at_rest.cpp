#include "webhooks_common/secrets_at_rest.hpp"

#include <array>
#include <optional>
#include <stdexcept>
#include <utility>

namespace portico::webhooks {

namespace {

constexpr std::string_view kSealedPrefix = "sealed:";

// The columns of webhook_endpoints that hold a secret, in the order of the SELECT below.
constexpr std::array<const char*, 3> kSecretColumns = {"secret", "previous_secret", "signing_key"};

// "sealed:v1:<key id>:" of the current data key, from a sealed probe.
std::string current_prefix(Host& host) {
  const std::string probe = host.seal_secret("");
  std::size_t colons = 0;
  for (std::size_t i = 0; i < probe.size(); ++i) {
    if (probe[i] == ':' && ++colons == 3) return probe.substr(0, i + 1);
  }
  throw std::runtime_error("the host's sealed form is not sealed:<version>:<key id>:<data>");
}

struct Change {
  std::string id;
  const char* column;
  std::string before;
  std::string after;
};

}  // namespace

void require_data_key(Host& host) {
  try {
    (void)host.seal_secret("");
  } catch (const std::exception& e) {
    throw std::runtime_error(
        std::string("webhook signing secrets are stored encrypted under the data key: ") +
        e.what() +
        ". Set security.data_key (e.g. \"${PORTICO_DATA_KEY}\") or security.data_key_file");
  }
}

bool is_sealed(std::string_view stored) {
  return stored.starts_with(kSealedPrefix);
}

std::string open_stored_secret(Host& host, std::string_view stored) {
  if (!is_sealed(stored)) return std::string(stored);
  return host.open_secret(stored);
}

ResealReport reseal_endpoint_secrets(Host& host) {
  ResealReport report;
  const std::string pattern = current_prefix(host) + "%";
  Database& db = host.database();
  const Rows rows = db.query(
      "SELECT id, secret, previous_secret, signing_key FROM webhook_endpoints"
      " WHERE secret NOT LIKE ?"
      " OR (previous_secret IS NOT NULL AND previous_secret NOT LIKE ?)"
      " OR (signing_key IS NOT NULL AND signing_key NOT LIKE ?)",
      {pattern, pattern, pattern});
  std::vector<Change> changes;
  for (const Row& row : rows) {
    const std::string id = row.text(0);
    bool unreadable = false;
    for (std::size_t column = 0; column < kSecretColumns.size(); ++column) {
      const std::optional<std::string> stored = row.optional_text(column + 1);
      if (!stored || host.sealed_with_current_key(*stored)) continue;
      try {
        changes.push_back({id, kSecretColumns[column], *stored,
                           host.seal_secret(open_stored_secret(host, *stored))});
      } catch (const std::exception& e) {
        unreadable = true;
        host.log().error("webhook endpoint " + id + ": its " + kSecretColumns[column] +
                         " cannot be opened (" + e.what() +
                         "); deliveries to it fail until that data key is listed in "
                         "security.previous_data_keys again, or the partner replaces the secret");
      }
    }
    if (unreadable) report.unreadable.push_back(id);
  }
  if (changes.empty()) return report;
  db.transaction([&](Session& tx) {
    report.resealed = 0;
    for (const Change& change : changes) {
      // Only if it is still the value read: a rotation in the meantime has sealed its own.
      report.resealed +=
          static_cast<int>(tx.execute(std::string("UPDATE webhook_endpoints SET ") + change.column +
                                          " = ? WHERE id = ? AND " + change.column + " = ?",
                                      {change.after, change.id, change.before}));
    }
  });
  if (report.resealed > 0) {
    host.log().info("sealed " + std::to_string(report.resealed) +
                    " webhook secret(s) under the current data key");
  }
  return report;
}

}  // namespace portico::webhooks
