// Entry point of the `portico` binary; the command line is core/cli, the gateway core/app.
#include <iostream>

#include "core/cli/cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return portico::app::run_cli(args, std::cout, std::cerr);
}
