// The `portico` command line: global help, did-you-mean, and the commands serve, check, plugins,
// migrate, version; `partner` and `key` are handed to core/partners/partner_cli and `catalog` to
// catalog_cli, over the admin API.
#include "core/app/cli.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>

#include "core/app/admin_client.hpp"
#include "core/app/catalog_cli.hpp"
#include "core/app/gateway.hpp"
#include "core/app/runtime.hpp"
#include "core/observability/build_info.hpp"
#include "core/partners/cli_args.hpp"
#include "core/partners/partner_cli.hpp"
#include "core/util/strings.hpp"
#include "portico/api_version.hpp"
#include "portico/sdk/json.hpp"

namespace portico::app {
namespace {

constexpr const char* kVersion = observability::kGatewayVersion;

struct Invocation {
  std::string command;
  std::string config_file;
  std::string admin_url;  // --admin URL; empty = from the config
  std::vector<std::string> overrides;
  bool json = false;
  bool help = false;
};

struct Command {
  std::string name;
  std::string summary;
  bool takes_set = false;
  bool takes_json = false;
  bool takes_admin = false;
  std::function<int(const Invocation&, std::ostream&, std::ostream&)> run;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string default_config() {
  if (const char* env = std::getenv("PORTICO_CONFIG"); env && *env) return env;
  return "configs/portico.toml";
}

void print_startup_error(const StartupError& e, std::ostream& err) {
  for (const auto& line : e.lines()) err << line << "\n";
}

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

int cmd_serve(const Invocation& inv, std::ostream&, std::ostream&) {
  return serve({inv.config_file, inv.overrides});
}

int cmd_check(const Invocation& inv, std::ostream& out, std::ostream& err) {
  config::Config cfg = load_config(inv.config_file, inv.overrides);
  auto plugins = prepare_plugins_or_fail(cfg);
  // Accepted but risky settings (a short admin token on loopback, the demo fallback token).
  for (const auto& warning : cfg.warnings) err << "warning: " << warning << "\n";
  if (inv.json) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& p : plugins) names.push_back(p.loaded.info.name + "@" + p.loaded.info.version);
    out << nlohmann::json{{"config", cfg.file},
                          {"ok", true},
                          {"plugins", names},
                          {"warnings", cfg.warnings}}
               .dump()
        << "\n";
  } else {
    out << cfg.file << ": ok (" << plugins.size() << " plugin(s) enabled)\n";
  }
  return 0;
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

int cmd_migrate(const Invocation& inv, std::ostream& out, std::ostream&) {
  config::Config cfg = load_config(inv.config_file, inv.overrides);
  auto plugins = prepare_plugins_or_fail(cfg);
  auto db = open_store(cfg, plugins);
  auto report = migrate_all(*db, plugins);
  if (inv.json) {
    nlohmann::json data = nlohmann::json::array();
    for (const auto& step : report)
      data.push_back({{"owner", step.owner}, {"applied", step.applied}});
    out << nlohmann::json{{"database", cfg.storage.path}, {"migrations", data}}.dump() << "\n";
  } else {
    for (const auto& step : report) {
      out << step.owner << ": " << step.applied << " migration(s) applied\n";
    }
  }
  return 0;
}

int cmd_version(const Invocation& inv, std::ostream& out, std::ostream&) {
  std::string api = std::to_string(kPluginApiMajor) + "." + std::to_string(kPluginApiMinor);
  if (inv.json) {
    out << nlohmann::json{{"version", kVersion},
                          {"plugin_api", api},
                          {"build_signature", kBuildSignature}}
               .dump()
        << "\n";
  } else {
    out << "portico " << kVersion << "\nplugin API " << api << "\nbuild signature "
        << kBuildSignature << "\n";
  }
  return 0;
}

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"serve", "Run the gateway until SIGTERM/SIGINT (SIGHUP reloads)", true, false, false,
       cmd_serve},
      {"check", "Validate the config and every enabled plugin; exit 2 naming each problem", true,
       true, false, cmd_check},
      {"plugins", "List the plugins the running gateway has loaded (else those the config enables)",
       true, true, true, cmd_plugins},
      {"reload", "Reload the running gateway's config and plugins (nothing changes on an error)",
       false, true, true, cmd_reload},
      {"migrate", "Apply the database migrations of the core and every enabled plugin", true, true,
       false, cmd_migrate},
      {"version", "Print the version, plugin API version and build signature", false, true, false,
       cmd_version},
  };
  return all;
}

void print_usage(std::ostream& out) {
  out << "portico — the Portico API gateway\n\nUsage: portico <command> [options]\n\nCommands:\n";
  for (const auto& c : commands()) {
    out << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << "\n";
  }
  for (const auto& g : partners::cli::admin_command_groups()) {
    out << "  " << g.name << std::string(10 - g.name.size(), ' ') << g.summary << "\n";
  }
  out << "  " << catalog_cli::kGroup << "   " << catalog_cli::kSummary << "\n";
  out << "\nRun 'portico <command> --help' for a command's options.\n";
}

void print_command_help(const Command& c, std::ostream& out) {
  out << "Usage: portico " << c.name << " [options]\n\n" << c.summary << ".\n\nOptions:\n";
  out << "  -c, --config FILE   config file (default: $PORTICO_CONFIG, else "
         "configs/portico.toml)\n";
  if (c.takes_set)
    out << "  --set KEY=VALUE     override a config key, e.g. --set server.threads=4 "
           "(repeatable)\n";
  if (c.takes_admin)
    out << "  --admin URL         the gateway's admin API (default: http://<admin.listen> of the "
           "config;\n                      token from $PORTICO_ADMIN_TOKEN, else admin.token)\n";
  if (c.takes_json) out << "  --json              print JSON\n";
  out << "  -h, --help          show this help\n";
}

Invocation parse(const std::vector<std::string>& args, const Command& command) {
  Invocation inv;
  inv.command = command.name;
  inv.config_file = default_config();
  auto value_of = [&](std::size_t& i, const std::string& flag) -> std::string {
    if (i + 1 >= args.size()) throw UsageError(flag + " needs a value");
    return args[++i];
  };
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      inv.help = true;
    } else if (a == "-c" || a == "--config") {
      inv.config_file = value_of(i, a);
    } else if (a.rfind("--config=", 0) == 0) {
      inv.config_file = a.substr(9);
    } else if (a == "--set" && command.takes_set) {
      inv.overrides.push_back(value_of(i, a));
    } else if (a.rfind("--set=", 0) == 0 && command.takes_set) {
      inv.overrides.push_back(a.substr(6));
    } else if (a == "--json" && command.takes_json) {
      inv.json = true;
    } else if (a == "--admin" && command.takes_admin) {
      inv.admin_url = value_of(i, a);
    } else if (a.rfind("--admin=", 0) == 0 && command.takes_admin) {
      inv.admin_url = a.substr(8);
    } else {
      std::vector<std::string> known{"--config", "--help"};
      if (command.takes_set) known.push_back("--set");
      if (command.takes_json) known.push_back("--json");
      if (command.takes_admin) known.push_back("--admin");
      std::string hint = util::closest_match(a, known);
      throw UsageError("unknown option '" + a + "' for '" + command.name + "'" +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
  }
  return inv;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    print_usage(args.empty() ? err : out);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") return cmd_version({}, out, err);
  if (partners::cli::is_admin_command_group(args[0]) || args[0] == catalog_cli::kGroup) {
    return run_admin_group(args, out, err);
  }
  const Command* command = nullptr;
  std::vector<std::string> names;
  for (const auto& c : commands()) {
    names.push_back(c.name);
    if (c.name == args[0]) command = &c;
  }
  for (const auto& g : partners::cli::admin_command_groups()) names.push_back(g.name);
  names.push_back(catalog_cli::kGroup);
  if (!command) {
    std::string hint = util::closest_match(args[0], names);
    err << "portico: unknown command '" << args[0] << "'"
        << (hint.empty() ? "" : " (did you mean '" + hint + "'?)")
        << "\nRun 'portico --help' for the list.\n";
    return 2;
  }
  try {
    Invocation inv = parse(args, *command);
    if (inv.help) {
      print_command_help(*command, out);
      return 0;
    }
    return command->run(inv, out, err);
  } catch (const UsageError& e) {
    err << "portico " << command->name << ": " << e.what() << "\n";
    return 2;
  } catch (const StartupError& e) {
    print_startup_error(e, err);
    return e.exit_code();
  } catch (const std::exception& e) {
    err << "portico " << command->name << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace portico::app
