// Internal to the `portico` command line (core/cli): what a top-level command runs with (its
// parsed invocation), the usage error every command may throw, and the commands themselves —
// those run in this process (local_commands.cpp) and those that talk to the running gateway's
// admin API (admin_commands.cpp). cli.cpp parses the arguments and dispatches to them.
#pragma once

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/app/runtime.hpp"

namespace portico::app::cli_commands {

struct Invocation {
  std::string command;
  std::string config_file;
  std::string admin_url;  // --admin URL; empty = from the config
  std::vector<std::string> overrides;
  bool json = false;
  bool help = false;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// $PORTICO_CONFIG, else configs/portico.toml.
std::string default_config();
void print_startup_error(const StartupError& e, std::ostream& err);

// local_commands.cpp: serve, check, migrate, version.
int cmd_serve(const Invocation& inv, std::ostream& out, std::ostream& err);
int cmd_check(const Invocation& inv, std::ostream& out, std::ostream& err);
int cmd_migrate(const Invocation& inv, std::ostream& out, std::ostream& err);
int cmd_version(const Invocation& inv, std::ostream& out, std::ostream& err);

// admin_commands.cpp: plugins, reload, and the groups partner, key and catalog.
int cmd_plugins(const Invocation& inv, std::ostream& out, std::ostream& err);
int cmd_reload(const Invocation& inv, std::ostream& out, std::ostream& err);
// `portico partner|key|catalog ...` (`args[0]` is the group), over the admin API's HTTP transport.
int run_admin_group(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace portico::app::cli_commands
