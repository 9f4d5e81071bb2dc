// The top-level commands that talk to the running gateway's admin API: `portico plugins`,
// `reload`, and the groups `partner`, `key` (partner_cli) and `catalog` (catalog_cli), over the
// HTTP transport built here from --admin / the config and PORTICO_ADMIN_TOKEN.
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <memory>

#include "core/app/runtime.hpp"
#include "core/cli/admin_client.hpp"
#include "core/cli/catalog_cli.hpp"
#include "core/cli/cli_args.hpp"
#include "core/cli/commands.hpp"
#include "core/cli/partner_cli.hpp"
#include "portico/sdk/json.hpp"

namespace portico::app::cli_commands {
namespace {

// The HTTP transport of `portico partner|key`: --admin URL, else http://<admin.listen> of the
// config; the token from PORTICO_ADMIN_TOKEN, else admin.token. The config is read only when one
// of them is missing.
partners::cli::AdminTransport admin_transport(const partners::cli::AdminTarget& target) {
  std::string url = target.admin_url;
  std::string token;
  if (const char* env = std::getenv("PORTICO_ADMIN_TOKEN"); env && *env) token = env;
  if (url.empty() || token.empty()) {
    config::Config cfg =
        load_config(target.config_file.empty() ? default_config() : target.config_file, {});
    if (url.empty()) {
      config::ListenAddress address = cfg.admin.listen;
      // A wildcard listener is reached over loopback.
      if (address.host == "0.0.0.0" || address.host.empty()) address.host = "127.0.0.1";
      if (address.host == "::") address.host = "::1";
      url = "http://" + address.to_string();
    }
    if (token.empty()) token = cfg.admin.token;
  }
  AdminUrl parsed;
  try {
    parsed = parse_admin_url(url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  auto client = std::make_shared<AdminClient>(std::move(parsed), std::move(token));
  return [client](const std::string& method, const std::string& path, const std::string& body) {
    AdminHttpReply reply = client->send(method, path, body);
    return partners::cli::AdminReply{reply.status, std::move(reply.body)};
  };
}

// One row per plugin; every column as wide as its widest cell or header.
void print_plugin_table(const nlohmann::json& data, std::ostream& out) {
  bool with_load_time = false;
  for (const auto& p : data) with_load_time = with_load_time || p.contains("loaded_at");
  std::vector<std::string> headers{"NAME", "VERSION", "PRIORITY", "KINDS", "API"};
  if (with_load_time) headers.push_back("LOADED AT");
  headers.push_back("FILE");
  auto text = [](const nlohmann::json& p, const char* member) {
    auto it = p.find(member);
    if (it == p.end() || it->is_null()) return std::string("-");
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : data) {
    std::string kinds;
    for (const auto& k : p["kinds"]) kinds += (kinds.empty() ? "" : ",") + k.get<std::string>();
    std::vector<std::string> row{text(p, "name"), text(p, "version"), text(p, "priority"), kinds,
                                 text(p, "api_version")};
    if (with_load_time) row.push_back(text(p, "loaded_at"));
    row.push_back(text(p, "file"));
    rows.push_back(std::move(row));
  }
  partners::cli::print_table(out, headers, rows);
}

// A successful admin API answer, read like any input from outside (nesting bounded).
nlohmann::json admin_reply_json(const std::string& body) {
  sdk::JsonParse parsed = sdk::parse_json(body);
  if (!parsed.ok() || !parsed.value.is_object()) {
    throw std::runtime_error("the admin API answered with a body that is not a JSON object");
  }
  return std::move(parsed.value);
}

// The problem body of an admin API refusal, as lines for stderr.
void print_problem(const std::string& body, std::ostream& err) {
  nlohmann::json problem = sdk::parse_json(body).value;
  if (!problem.is_object()) {
    err << body << "\n";
    return;
  }
  if (problem.contains("errors") && problem["errors"].is_array() && !problem["errors"].empty()) {
    for (const auto& e : problem["errors"]) err << e.value("message", "") << "\n";
  } else {
    err << problem.value("detail", problem.value("title", body)) << "\n";
  }
}

// What the config (with its --set overrides) would load, as the admin API lists plugins.
nlohmann::json configured_plugins(const Invocation& inv) {
  config::Config cfg = load_config(inv.config_file, inv.overrides);
  nlohmann::json data = nlohmann::json::array();
  for (const auto& p : prepare_plugins_or_fail(cfg)) data.push_back(plugin_json(p.loaded, false));
  return data;
}

}  // namespace

int run_admin_group(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string where = "portico " + args[0];
  try {
    if (args[0] == catalog_cli::kGroup) {
      return catalog_cli::run({args.begin() + 1, args.end()}, admin_transport, out, err);
    }
    return partners::cli::run_admin_command(args[0], {args.begin() + 1, args.end()},
                                            admin_transport, out, err);
  } catch (const UsageError& e) {
    err << where << ": " << e.what() << "\n";
    return 2;
  } catch (const StartupError& e) {
    print_startup_error(e, err);
    return e.exit_code();
  } catch (const std::exception& e) {
    err << where << ": " << e.what() << "\n";
    return 1;
  }
}

// `portico plugins`: what the running gateway has loaded (with load times). With --set, or when
// no gateway answers and --admin was not given: what the config would load.
int cmd_plugins(const Invocation& inv, std::ostream& out, std::ostream& err) {
  nlohmann::json data;
  try {
    if (!inv.overrides.empty()) throw AdminUnreachable("--set describes a config, not the gateway");
    auto transport = admin_transport({inv.config_file, inv.admin_url});
    auto reply = transport("GET", "/admin/v1/plugins", "");
    if (reply.status != 200) {
      print_problem(reply.body, err);
      return 1;
    }
    data = admin_reply_json(reply.body).at("data");
  } catch (const AdminUnreachable& e) {
    if (!inv.admin_url.empty()) throw;
    data = configured_plugins(inv);
    if (!inv.json && inv.overrides.empty()) {
      err << "(" << e.what() << "; listing what " << inv.config_file << " would load)\n";
    }
  }
  if (inv.json) {
    out << nlohmann::json{{"data", data}}.dump(2) << "\n";
  } else {
    print_plugin_table(data, out);
  }
  return 0;
}

// `portico reload`: POST /admin/v1/reload; prints what changed, or why nothing did (exit 2).
int cmd_reload(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto transport = admin_transport({inv.config_file, inv.admin_url});
  auto reply = transport("POST", "/admin/v1/reload", "");
  if (reply.status != 200) {
    err << "portico reload: refused, nothing changed\n";
    print_problem(reply.body, err);
    return reply.status == 422 ? 2 : 1;
  }
  if (inv.json) {
    out << reply.body << "\n";
    return 0;
  }
  nlohmann::json result = admin_reply_json(reply.body);
  const auto generation = result.value("generation", 0);
  if (result["changes"].empty()) {
    out << "reloaded: generation " << generation << ", nothing changed\n";
  } else {
    out << "reloaded: generation " << generation << "\n";
    for (const auto& line : result["changes"]) out << "  " << line.get<std::string>() << "\n";
  }
  for (const auto& line : result["warnings"]) {
    err << "warning: " << line.get<std::string>() << "\n";
  }
  return 0;
}

}  // namespace portico::app::cli_commands
