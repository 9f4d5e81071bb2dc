// The `portico` command line: parses arguments and runs one command. CLI and admin API share
// the same implementation underneath (core/app); the commands are in core/cli.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace portico::app {

// Returns the process exit code: 0 ok, 1 runtime failure, 2 bad usage / config / plugin.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace portico::app
