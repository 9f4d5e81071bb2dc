// `portico key issue|list|revoke|rotate`: API keys of one partner through the admin API.
#include <nlohmann/json.hpp>

#include "core/config/config.hpp"
#include "core/cli/cli_context.hpp"
#include "core/partners/scopes.hpp"

namespace portico::partners::cli {
namespace {

using json = nlohmann::json;

std::string keys_path(const ParsedArgs& args) {
  return "/admin/v1/partners/" + path_segment(args.positional[0]) + "/keys";
}

// "3600", "90m", "1h", "1d" → seconds.
std::int64_t overlap_seconds(const std::string& text) {
  if (!text.empty() && text.size() <= 10 &&
      text.find_first_not_of("0123456789") == std::string::npos)
    return std::stoll(text);
  auto duration = config::parse_duration(text);
  if (!duration || duration->count() % 1000 != 0)
    throw UsageError("--overlap needs whole seconds (3600) or a duration (90m, 1h, 1d)");
  return duration->count() / 1000;
}

// "all" for a key with every scope, else the list.
std::string scopes_text(const json& scopes) {
  if (scopes.is_array() && scopes.size() == all_scopes().size()) return "all";
  return joined(scopes);
}

void print_new_key(std::ostream& out, const json& key) {
  out << "API key for " << text_of(key, "partner_id")
      << " — shown only now; store it in the partner's secret store:\n\n  " << text_of(key, "key")
      << "\n\n";
  print_fields(
      out, {{"id", text_of(key, "id")},
            {"prefix", text_of(key, "prefix")},
            {"env", text_of(key, "env")},
            {"scopes", scopes_text(key["scopes"])},
            {"expires_at", key["expires_at"].is_null() ? "never" : text_of(key, "expires_at")}});
}

int key_issue(const Context& c) {
  json body = json::object();
  if (c.args.has("--scope")) body["scopes"] = c.args.all("--scope");
  if (auto* at = c.args.value("--expires-at")) body["expires_at"] = *at;
  if (auto* env = c.args.value("--env")) body["env"] = *env;
  json key = c.call("POST", keys_path(c.args), body);
  if (c.args.json) {
    c.out << key.dump(2) << "\n";
  } else {
    print_new_key(c.out, key);
  }
  return 0;
}

int key_list(const Context& c) {
  json answer = c.list(keys_path(c.args));
  if (c.args.json) {
    c.out << answer.dump(2) << "\n";
    return 0;
  }
  if (answer["data"].empty()) {
    c.out << "No API keys. Issue one: portico key issue " << c.args.positional[0] << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : answer["data"]) {
    rows.push_back({text_of(k, "id"), text_of(k, "prefix"), text_of(k, "env"), text_of(k, "status"),
                    scopes_text(k["scopes"]), text_of(k, "created_at"), text_of(k, "last_used_at"),
                    text_of(k, "expires_at")});
  }
  print_table(c.out, {"ID", "PREFIX", "ENV", "STATUS", "SCOPES", "CREATED", "LAST USED", "EXPIRES"},
              rows);
  if (answer.value("has_more", false))
    c.out << "(more: --cursor " << text_of(answer, "next_cursor") << ")\n";
  return 0;
}

int key_revoke(const Context& c) {
  c.call("DELETE", keys_path(c.args) + "/" + path_segment(c.args.positional[1]));
  if (!c.args.json) {
    c.out << "Revoked " << c.args.positional[1] << "; it is refused from the next request.\n";
  }
  return 0;
}

int key_rotate(const Context& c) {
  json body = json::object();
  if (auto* overlap = c.args.value("--overlap"))
    body["overlap_seconds"] = overlap_seconds(*overlap);
  json key = c.call("POST",
                    keys_path(c.args) + "/" + path_segment(c.args.positional[1]) + "/rotate", body);
  if (c.args.json) {
    c.out << key.dump(2) << "\n";
    return 0;
  }
  print_new_key(c.out, key);
  const json& previous = key["previous_key"];
  c.out << "\nThe previous key " << text_of(previous, "id") << " keeps working until "
        << text_of(previous, "expires_at") << ".\n";
  return 0;
}

}  // namespace

const std::vector<SubCommand>& key_commands() {
  static const std::vector<SubCommand> commands = {
      {{"issue",
        {"PARTNER_ID"},
        "Issue an API key; it is shown once.",
        {{"--scope", "SCOPE", "grant this scope, e.g. orders:read (default: all scopes)", true},
         {"--expires-at", "TIME", "RFC 3339 expiry, e.g. 2027-01-31T00:00:00Z (default: never)"},
         {"--env", "ENV", "live (default) or test: the key starts pk_live_ or pk_test_"}}},
       key_issue},
      {{"list",
        {"PARTNER_ID"},
        "List a partner's API keys (never the keys themselves).",
        list_flags()},
       key_list},
      {{"revoke", {"PARTNER_ID", "KEY_ID"}, "Revoke a key: refused from the next request.", {}},
       key_revoke},
      {{"rotate",
        {"PARTNER_ID", "KEY_ID"},
        "Replace a key; the old one keeps working for the overlap.",
        {{"--overlap", "DURATION",
          "how long the old key stays valid: seconds or 90m/1h/1d "
          "(default 24h, at most 7d; 0 = end it now)"}}},
       key_rotate},
  };
  return commands;
}

}  // namespace portico::partners::cli
