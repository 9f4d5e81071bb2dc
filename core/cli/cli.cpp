// The `portico` command line's front door: global help, did-you-mean, the table of top-level
// commands, their common options (-c/--config, --set, --json, --admin, --help) and the exit codes.
// The commands run in local_commands.cpp (serve, check, migrate, version) and admin_commands.cpp
// (plugins, reload; `partner` and `key` go on to partner_cli, `catalog` to catalog_cli).
#include "core/cli/cli.hpp"

#include <cstdlib>
#include <functional>

#include "core/cli/catalog_cli.hpp"
#include "core/cli/commands.hpp"
#include "core/cli/partner_cli.hpp"
#include "core/util/strings.hpp"

namespace portico::app {
namespace cli_commands {

std::string default_config() {
  if (const char* env = std::getenv("PORTICO_CONFIG"); env && *env) return env;
  return "configs/portico.toml";
}

void print_startup_error(const StartupError& e, std::ostream& err) {
  for (const auto& line : e.lines()) err << line << "\n";
}

}  // namespace cli_commands

namespace {

using namespace cli_commands;

struct Command {
  std::string name;
  std::string summary;
  bool takes_set = false;
  bool takes_json = false;
  bool takes_admin = false;
  std::function<int(const Invocation&, std::ostream&, std::ostream&)> run;
};

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
