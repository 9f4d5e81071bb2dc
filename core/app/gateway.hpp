// `portico serve`: start the listeners and services on a built snapshot, drain on SIGTERM/SIGINT.
#pragma once

#include <string>
#include <vector>

namespace portico::app {

struct ServeOptions {
  std::string config_file;
  std::vector<std::string> overrides;  // --set
};

// Runs until SIGTERM/SIGINT; returns the process exit code (0 after a clean drain).
int serve(const ServeOptions& options);

}  // namespace portico::app
