// PartnerService, the partner half: create, list, show, update, disable.
#include "core/partners/partner_service.hpp"

#include <algorithm>

#include "core/pipeline/cidr.hpp"
#include "core/util/random_id.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"
#include "portico/sdk/fields.hpp"
#include "portico/sdk/problems.hpp"

namespace portico::partners {
namespace {

constexpr std::size_t kMaxNameChars = 200;
constexpr std::size_t kMaxCidrs = 100;
constexpr std::int64_t kMaxRateLimitOverride = 1'000'000'000;

struct PartnerFields {
  std::optional<std::string> name;
  std::optional<std::string> tier;
  std::optional<std::string> status;
  std::optional<std::vector<std::string>> allowed_cidrs;  // canonical, deduplicated
  std::optional<std::int64_t> rate_limit_override;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Reads and checks the partner fields present in `body`; `creating` makes name and tier required.
PartnerFields check_partner_fields(const nlohmann::json& body, bool creating,
                                   const std::vector<std::string>& tiers) {
  std::vector<FieldError> errors;
  sdk::FieldReader(body, "", errors).refuse_unknown({"name", "tier", "status", "allowed_cidrs", "rate_limit_override"});
  PartnerFields fields;

  if (auto it = body.find("name"); it != body.end()) {
    std::string name = it->is_string() ? std::string(util::trim(it->get<std::string>())) : "";
    if (!it->is_string() || name.empty()) {
      errors.push_back({"name", "must be a non-empty string"});
    } else if (name.size() > kMaxNameChars) {
      errors.push_back({"name", "must be at most " + std::to_string(kMaxNameChars) + " characters"});
    } else if (sdk::has_control_characters(name)) {
      // A name lands in tables, logs and CSV exports: no line breaks or escape sequences.
      errors.push_back({"name", "must not contain control characters"});
    } else {
      fields.name = name;
    }
  } else if (creating) {
    errors.push_back({"name", "is required"});
  }

  if (auto it = body.find("tier"); it != body.end()) {
    if (!it->is_string()) {
      errors.push_back({"tier", "must be a string"});
    } else if (std::find(tiers.begin(), tiers.end(), it->get<std::string>()) == tiers.end()) {
      std::string tier = it->get<std::string>();
      std::string hint = util::closest_match(tier, tiers);
      errors.push_back({"tier", "unknown tier '" + tier + "'" +
                             (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                             "; configured tiers: " + join(tiers)});
    } else {
      fields.tier = it->get<std::string>();
    }
  } else if (creating) {
    errors.push_back({"tier", "is required"});
  }

  if (auto it = body.find("status"); it != body.end()) {
    if (!it->is_string() || (*it != "active" && *it != "disabled")) {
      errors.push_back({"status", "must be \"active\" or \"disabled\""});
    } else {
      fields.status = it->get<std::string>();
    }
  }

  if (auto it = body.find("allowed_cidrs"); it != body.end()) {
    if (!it->is_array()) {
      errors.push_back({"allowed_cidrs", "must be an array of IPv4/IPv6 addresses or CIDR blocks"});
    } else if (it->size() > kMaxCidrs) {
      errors.push_back({"allowed_cidrs", "at most " + std::to_string(kMaxCidrs) + " entries"});
    } else {
      std::vector<std::string> canonical;
      for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& item = (*it)[i];
        std::string field = "allowed_cidrs[" + std::to_string(i) + "]";
        auto cidr = item.is_string() ? pipeline::parse_cidr(item.get<std::string>()) : std::nullopt;
        if (!cidr) {
          errors.push_back({field, "not an IPv4/IPv6 address or CIDR block (e.g. 203.0.113.0/24)"});
          continue;
        }
        std::string text = cidr->to_string();
        if (std::find(canonical.begin(), canonical.end(), text) == canonical.end())
          canonical.push_back(text);
      }
      fields.allowed_cidrs = canonical;
    }
  }

  if (auto it = body.find("rate_limit_override"); it != body.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
        it->get<std::int64_t>() > kMaxRateLimitOverride) {
      errors.push_back({"rate_limit_override", "must be an integer from 0 (the tier's limit) to " +
                                            std::to_string(kMaxRateLimitOverride)});
    } else {
      fields.rate_limit_override = it->get<std::int64_t>();
    }
  }
  sdk::refuse_invalid_fields(std::move(errors));
  return fields;
}

// What two partner names are compared by: unique ignoring case and surrounding whitespace.
std::string name_key(std::string_view name) {
  return util::to_lower(util::trim(name));
}

// Refuses `name` (409 partner_exists, naming the partner that has it) when a partner other than
// `own_id` already has it. Runs inside the write transaction that stores the name, so two
// requests cannot both pass. Compared here rather than in SQL (lower() differs between backends)
// and without a unique index: databases written before names were unique may hold duplicates.
void check_name_free(Session& tx, const std::string& name, const std::string& own_id) {
  std::string key = name_key(name);
  for (const auto& row : tx.query("SELECT id, name FROM partners ORDER BY created_at, id")) {
    std::string id = row.text("id");
    if (id == own_id || name_key(row.text("name")) != key) continue;
    throw sdk::conflict("partner_exists",
                        "A partner named '" + row.text("name") + "' already exists: " + id +
                            ". Partner names are unique, ignoring case and surrounding "
                            "whitespace.",
                        {{"name", "already used by partner " + id}});
  }
}

}  // namespace

PartnerService::PartnerService(std::shared_ptr<Database> db, std::shared_ptr<KeyDirectory> keys,
                               TierNames tiers, Clock clock)
    : db_(std::move(db)),
      keys_(std::move(keys)),
      tiers_(std::move(tiers)),
      clock_(std::move(clock)),
      cursors_(db_) {}

Row PartnerService::load_partner(Session& db, const std::string& partner_id) const {
  auto rows = db.query(std::string("SELECT ") + kPartnerColumns + " FROM partners WHERE id = ?",
                       {partner_id});
  if (rows.empty()) throw sdk::not_found("No partner " + partner_id + ".");
  return rows.front();
}

nlohmann::json PartnerService::create_partner(const nlohmann::json& body) {
  auto fields = check_partner_fields(body, true, tiers_());
  std::lock_guard lock(write_mutex_);
  std::string id = util::random_id("ptr_");
  std::string now = util::format_rfc3339(clock_());
  std::optional<Row> row;
  db_->transaction([&](Session& tx) {
    check_name_free(tx, *fields.name, id);
    tx.execute(
        "INSERT INTO partners(id, name, tier, status, allowed_cidrs, rate_limit_override, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {id, *fields.name, *fields.tier, fields.status.value_or("active"),
         nlohmann::json(fields.allowed_cidrs.value_or(std::vector<std::string>{})).dump(),
         fields.rate_limit_override.value_or(0), now, now});
    row = load_partner(tx, id);
  });
  keys_->put_partner(partner_state_from_row(*row));
  return partner_json(*row);
}

nlohmann::json PartnerService::list_partners(const PageRequest& page) const {
  std::string sql = std::string("SELECT ") + kPartnerColumns + " FROM partners";
  Params params;
  if (page.cursor) {
    auto after = cursors_.decode(*page.cursor, "partners");
    sql += " WHERE created_at < ? OR (created_at = ? AND id < ?)";
    params = {after.created_at, after.created_at, after.id};
  }
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(page.limit) + 1);
  auto rows = db_->query(sql, params);
  bool has_more = rows.size() > static_cast<std::size_t>(page.limit);
  if (has_more) rows.pop_back();
  nlohmann::json data = nlohmann::json::array();
  for (const auto& row : rows) data.push_back(partner_json(row));
  nlohmann::json next = nullptr;
  if (has_more) {
    next = cursors_.encode({rows.back().text("created_at"), rows.back().text("id")}, "partners");
  }
  return {{"data", data}, {"has_more", has_more}, {"next_cursor", next}};
}

nlohmann::json PartnerService::get_partner(const std::string& partner_id) const {
  return partner_json(load_partner(*db_, partner_id));
}

nlohmann::json PartnerService::update_partner(const std::string& partner_id,
                                              const nlohmann::json& body) {
  auto fields = check_partner_fields(body, false, tiers_());
  std::lock_guard lock(write_mutex_);
  std::optional<Row> row;
  db_->transaction([&](Session& tx) {
    Row current = load_partner(tx, partner_id);  // 404 before anything changes
    // A rename (more than a change of case or spacing) must not take another partner's name.
    if (fields.name && name_key(*fields.name) != name_key(current.text("name")))
      check_name_free(tx, *fields.name, partner_id);
    std::string sets;
    Params params;
    auto set = [&](const char* column, Value value) {
      sets += std::string(sets.empty() ? "" : ", ") + column + " = ?";
      params.push_back(std::move(value));
    };
    if (fields.name) set("name", *fields.name);
    if (fields.tier) set("tier", *fields.tier);
    if (fields.status) set("status", *fields.status);
    if (fields.allowed_cidrs) set("allowed_cidrs", nlohmann::json(*fields.allowed_cidrs).dump());
    if (fields.rate_limit_override) set("rate_limit_override", *fields.rate_limit_override);
    if (!sets.empty()) {
      set("updated_at", util::format_rfc3339(clock_()));
      params.push_back(partner_id);
      tx.execute("UPDATE partners SET " + sets + " WHERE id = ?", params);
    }
    row = load_partner(tx, partner_id);
  });
  keys_->put_partner(partner_state_from_row(*row));
  return partner_json(*row);
}

nlohmann::json PartnerService::disable_partner(const std::string& partner_id) {
  return update_partner(partner_id, {{"status", "disabled"}});
}

}  // namespace portico::partners
