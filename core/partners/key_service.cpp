// PartnerService, the key half: issue, list, revoke, rotate. The plain key exists only in the
// issue/rotate response; the table keeps its keyed hash and its 12-character prefix.
#include <algorithm>

#include "core/partners/api_key_format.hpp"
#include "core/partners/partner_service.hpp"
#include "core/partners/scopes.hpp"
#include "core/util/random_id.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"
#include "portico/sdk/fields.hpp"
#include "portico/sdk/problems.hpp"

namespace portico::partners {
namespace {

struct KeyFields {
  std::vector<std::string> scopes = all_scopes();
  std::optional<std::string> expires_at;  // normalized RFC 3339
  std::string env = "live";
};

KeyFields check_key_fields(const nlohmann::json& body) {
  std::vector<FieldError> errors;
  sdk::FieldReader(body, "", errors).refuse_unknown({"scopes", "expires_at", "env"});
  KeyFields fields;
  if (auto it = body.find("scopes"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) {
      errors.push_back({"scopes", "must be an array of scopes"});
    } else if (it->empty()) {
      errors.push_back({"scopes", "must name at least one scope (leave it out for all scopes)"});
    } else {
      std::vector<std::string> scopes;
      for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& item = (*it)[i];
        std::string field = "scopes[" + std::to_string(i) + "]";
        if (!item.is_string()) {
          errors.push_back({field, "must be a string"});
        } else if (!is_known_scope(item.get<std::string>())) {
          std::string hint = util::closest_match(item.get<std::string>(), all_scopes());
          errors.push_back({field, "unknown scope '" + item.get<std::string>() + "'" +
                                (hint.empty() ? "" : " (did you mean '" + hint + "'?)")});
        } else {
          scopes.push_back(item.get<std::string>());
        }
      }
      fields.scopes = canonical_scopes(scopes);
    }
  }
  if (auto it = body.find("expires_at"); it != body.end() && !it->is_null()) {
    auto at = it->is_string() ? util::parse_rfc3339(it->get<std::string>()) : std::nullopt;
    // A past expiry is accepted (the answer says status "expired"): it is how an operator or a
    // test makes a key that is refused without waiting.
    if (!at) {
      errors.push_back({"expires_at", "must be an RFC 3339 timestamp, e.g. 2027-01-31T00:00:00Z"});
    } else {
      fields.expires_at = util::format_rfc3339(*at);
    }
  }
  if (auto it = body.find("env"); it != body.end() && !it->is_null()) {
    if (!it->is_string() || (*it != "live" && *it != "test")) {
      errors.push_back({"env", "must be \"live\" or \"test\""});
    } else {
      fields.env = it->get<std::string>();
    }
  }
  sdk::refuse_invalid_fields(std::move(errors));
  return fields;
}

std::int64_t check_overlap(const nlohmann::json& body) {
  std::vector<FieldError> errors;
  sdk::FieldReader(body, "", errors).refuse_unknown({"overlap_seconds"});
  std::int64_t overlap = kDefaultRotationOverlapSeconds;
  if (auto it = body.find("overlap_seconds"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
        it->get<std::int64_t>() > kMaxRotationOverlapSeconds) {
      errors.push_back({"overlap_seconds", "must be an integer from 0 to " +
                                        std::to_string(kMaxRotationOverlapSeconds) + " (7 days)"});
    } else {
      overlap = it->get<std::int64_t>();
    }
  }
  sdk::refuse_invalid_fields(std::move(errors));
  return overlap;
}

// Whole seconds, as stored, so the index and the table agree to the second.
TimePoint whole_seconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}

}  // namespace

struct PartnerService::NewKey {
  std::string plain;  // shown once
  Row row;
};

Row PartnerService::load_key(Session& db, const std::string& partner_id,
                             const std::string& key_id) const {
  auto rows = db.query(
      std::string("SELECT ") + kKeyColumns + " FROM api_keys WHERE id = ? AND partner_id = ?",
      {key_id, partner_id});
  if (rows.empty())
    throw sdk::not_found("No API key " + key_id + " for partner " + partner_id + ".");
  return rows.front();
}

PartnerService::NewKey PartnerService::insert_key(Session& tx, const std::string& partner_id,
                                                  const std::string& env,
                                                  const std::vector<std::string>& scopes,
                                                  const std::optional<std::string>& expires_at,
                                                  TimePoint now) {
  std::string plain = generate_api_key(env);
  std::string id = util::random_id("key_");
  tx.execute(
      "INSERT INTO api_keys(id, partner_id, env, prefix, hash, scopes, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {id, partner_id, env, api_key_prefix(plain), keys_->hasher().hash(plain),
       nlohmann::json(scopes).dump(), util::format_rfc3339(now),
       expires_at ? Value(*expires_at) : Value(nullptr)});
  return {std::move(plain), load_key(tx, partner_id, id)};
}

nlohmann::json PartnerService::issue_key(const std::string& partner_id,
                                         const nlohmann::json& body) {
  TimePoint now = clock_();
  std::lock_guard lock(write_mutex_);
  std::optional<NewKey> issued;
  db_->transaction([&](Session& tx) {
    load_partner(tx, partner_id);  // 404 first: a bad body for a missing partner is still 404
    auto fields = check_key_fields(body);
    issued = insert_key(tx, partner_id, fields.env, fields.scopes, fields.expires_at, now);
  });
  keys_->put_key(key_state_from_row(issued->row));
  auto out = key_json(issued->row, now);
  out["key"] = issued->plain;
  return out;
}

nlohmann::json PartnerService::list_keys(const std::string& partner_id, const PageRequest& page) {
  load_partner(*db_, partner_id);
  keys_->flush_last_used();  // so last_used_at is current
  std::string sql = std::string("SELECT ") + kKeyColumns + " FROM api_keys WHERE partner_id = ?";
  Params params{partner_id};
  if (page.cursor) {
    auto after = cursors_.decode(*page.cursor, "keys:" + partner_id);
    sql += " AND (created_at < ? OR (created_at = ? AND id < ?))";
    params.insert(params.end(), {after.created_at, after.created_at, after.id});
  }
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(page.limit) + 1);
  auto rows = db_->query(sql, params);
  bool has_more = rows.size() > static_cast<std::size_t>(page.limit);
  if (has_more) rows.pop_back();
  TimePoint now = clock_();
  nlohmann::json data = nlohmann::json::array();
  for (const auto& row : rows) data.push_back(key_json(row, now));
  nlohmann::json next = nullptr;
  if (has_more) {
    next = cursors_.encode({rows.back().text("created_at"), rows.back().text("id")},
                           "keys:" + partner_id);
  }
  return {{"data", data}, {"has_more", has_more}, {"next_cursor", next}};
}

void PartnerService::revoke_key(const std::string& partner_id, const std::string& key_id) {
  std::lock_guard lock(write_mutex_);
  std::optional<Row> row;
  db_->transaction([&](Session& tx) {
    load_key(tx, partner_id, key_id);
    tx.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
               {util::format_rfc3339(clock_()), key_id});
    row = load_key(tx, partner_id, key_id);
  });
  keys_->put_key(key_state_from_row(*row));
}

nlohmann::json PartnerService::rotate_key(const std::string& partner_id, const std::string& key_id,
                                          const nlohmann::json& body) {
  TimePoint now = clock_();
  std::lock_guard lock(write_mutex_);
  std::optional<NewKey> issued;
  std::optional<Row> old_row;
  db_->transaction([&](Session& tx) {
    Row old = load_key(tx, partner_id, key_id);
    std::int64_t overlap = check_overlap(body);
    if (!old.is_null("revoked_at"))
      throw sdk::conflict("key_revoked", "API key " + key_id + " is revoked; issue a new key.");
    if (auto successor = old.optional_text("replaced_by"))
      throw sdk::conflict(
          "key_already_rotated",
          "API key " + key_id + " was already rotated; rotate " + *successor + " instead.");
    auto old_state = key_state_from_row(old);
    if (old_state.expires_at && *old_state.expires_at <= now)
      throw sdk::conflict("key_expired", "API key " + key_id + " has expired; issue a new key.");

    TimePoint until = whole_seconds(now + std::chrono::seconds(overlap));
    if (old_state.expires_at && *old_state.expires_at < until) until = *old_state.expires_at;
    issued = insert_key(tx, partner_id, old.text("env"), old_state.scopes, std::nullopt, now);
    tx.execute("UPDATE api_keys SET expires_at = ?, replaced_by = ? WHERE id = ?",
               {util::format_rfc3339(until), issued->row.text("id"), key_id});
    old_row = load_key(tx, partner_id, key_id);
  });
  keys_->put_key(key_state_from_row(issued->row));
  keys_->put_key(key_state_from_row(*old_row));
  auto out = key_json(issued->row, now);
  out["key"] = issued->plain;
  out["previous_key"] = {{"id", key_id}, {"expires_at", old_row->text("expires_at")}};
  return out;
}

}  // namespace portico::partners
