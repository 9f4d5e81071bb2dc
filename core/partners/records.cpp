// Row → index state and row → admin JSON, so the index and the API read the tables one way.
#include "core/partners/records.hpp"

#include "core/util/time.hpp"

namespace portico::partners {
namespace {

nlohmann::json optional_text_json(const Row& row, std::string_view column) {
  auto value = row.optional_text(column);
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

std::vector<std::string> string_list_from_text(const std::string& text) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (!parsed.is_array()) return out;
  for (const auto& item : parsed) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

PartnerState partner_state_from_row(const Row& row) {
  PartnerState state;
  state.id = row.text("id");
  state.status = row.text("status");
  state.tier = row.text("tier");
  state.rate_limit_override = row.integer("rate_limit_override");
  state.allowed_cidrs = string_list_from_text(row.text("allowed_cidrs"));
  return state;
}

KeyState key_state_from_row(const Row& row) {
  KeyState state;
  state.id = row.text("id");
  state.hash = row.text("hash");
  state.prefix = row.text("prefix");
  state.partner_id = row.text("partner_id");
  state.scopes = string_list_from_text(row.text("scopes"));
  if (auto expires = row.optional_text("expires_at"))
    state.expires_at = util::parse_rfc3339(*expires);
  state.revoked = !row.is_null("revoked_at");
  return state;
}

nlohmann::json partner_json(const Row& row) {
  return {{"id", row.text("id")},
          {"name", row.text("name")},
          {"tier", row.text("tier")},
          {"status", row.text("status")},
          {"allowed_cidrs", string_list_from_text(row.text("allowed_cidrs"))},
          {"rate_limit_override", row.integer("rate_limit_override")},
          {"created_at", row.text("created_at")},
          {"updated_at", row.text("updated_at")}};
}

nlohmann::json key_json(const Row& row, TimePoint now) {
  std::string status = "active";
  if (!row.is_null("revoked_at")) {
    status = "revoked";
  } else if (auto expires = row.optional_text("expires_at")) {
    auto at = util::parse_rfc3339(*expires);
    if (at && now >= *at) status = "expired";
  }
  return {{"id", row.text("id")},
          {"partner_id", row.text("partner_id")},
          {"env", row.text("env")},
          {"prefix", row.text("prefix")},
          {"scopes", string_list_from_text(row.text("scopes"))},
          {"status", status},
          {"created_at", row.text("created_at")},
          {"last_used_at", optional_text_json(row, "last_used_at")},
          {"expires_at", optional_text_json(row, "expires_at")},
          {"revoked_at", optional_text_json(row, "revoked_at")},
          {"replaced_by", optional_text_json(row, "replaced_by")}};
}

}  // namespace portico::partners
