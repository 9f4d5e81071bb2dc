// Partners and their API keys as the admin API (and through it the CLI) manages them: JSON in,
// JSON out, ProblemError (400 invalid_request with errors[], 404 not_found, 409) on refusal.
// Every change updates the KeyDirectory before the call returns, so it holds from the next request.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/partners/key_directory.hpp"
#include "core/partners/request_checks.hpp"
#include "portico/database.hpp"

namespace portico::partners {

inline constexpr std::int64_t kDefaultRotationOverlapSeconds = 86400;  // 24 h
inline constexpr std::int64_t kMaxRotationOverlapSeconds = 7 * 86400;  // 7 days

class PartnerService {
 public:
  // The tier names configured now ([tiers.*]); asked on each create/update, so a reload counts.
  using TierNames = std::function<std::vector<std::string>()>;

  PartnerService(
      std::shared_ptr<Database> db, std::shared_ptr<KeyDirectory> keys, TierNames tiers,
      Clock clock = [] { return std::chrono::system_clock::now(); });

  // {name, tier, allowed_cidrs?, rate_limit_override?, status?} → the partner. Names are unique
  // ignoring case and surrounding whitespace: a taken one is 409 partner_exists naming its owner.
  nlohmann::json create_partner(const nlohmann::json& body);
  // {data, has_more, next_cursor}, newest first.
  nlohmann::json list_partners(const PageRequest& page) const;
  nlohmann::json get_partner(const std::string& partner_id) const;
  // {name?, tier?, status?, allowed_cidrs?, rate_limit_override?} → the partner; renaming to
  // another partner's name is 409 partner_exists, as on create.
  nlohmann::json update_partner(const std::string& partner_id, const nlohmann::json& body);
  nlohmann::json disable_partner(const std::string& partner_id);

  // {scopes?, expires_at?, env?} → {id, key, prefix, ...}; the only time the key is shown.
  nlohmann::json issue_key(const std::string& partner_id, const nlohmann::json& body);
  // {data, has_more, next_cursor}, newest first, without secrets.
  nlohmann::json list_keys(const std::string& partner_id, const PageRequest& page);
  // Idempotent: revoking a revoked key keeps its first revoked_at.
  void revoke_key(const std::string& partner_id, const std::string& key_id);
  // {overlap_seconds?} → the new key (as issue_key) plus previous_key {id, expires_at}.
  nlohmann::json rotate_key(const std::string& partner_id, const std::string& key_id,
                            const nlohmann::json& body);

 private:
  struct NewKey;
  Row load_partner(Session& db, const std::string& partner_id) const;
  Row load_key(Session& db, const std::string& partner_id, const std::string& key_id) const;
  NewKey insert_key(Session& tx, const std::string& partner_id, const std::string& env,
                    const std::vector<std::string>& scopes,
                    const std::optional<std::string>& expires_at, TimePoint now);

  std::shared_ptr<Database> db_;
  std::shared_ptr<KeyDirectory> keys_;
  TierNames tiers_;
  Clock clock_;
  AdminCursors cursors_;  // of the partner and key lists
  // Serializes changes so the index is updated in commit order.
  std::mutex write_mutex_;
};

}  // namespace portico::partners
