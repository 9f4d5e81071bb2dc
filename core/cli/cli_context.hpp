// Internal to the admin sub-commands: what a sub-command runs with (parsed arguments, the
// transport, the streams) and the helpers partner_cli.cpp and key_cli.cpp share.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/cli/cli_args.hpp"
#include "core/cli/partner_cli.hpp"

namespace portico::partners::cli {

// A problem answered by the admin API; printed by run_admin_command, exit code 1.
class ApiProblem : public std::runtime_error {
 public:
  ApiProblem(int status, nlohmann::json body, std::string detail)
      : std::runtime_error(std::move(detail)), status(status), body(std::move(body)) {}
  int status;
  nlohmann::json body;
};

struct Context {
  const ParsedArgs& args;
  AdminTransport transport;
  std::ostream& out;

  // Calls the admin API: the JSON answer (null for 204); throws ApiProblem for 4xx/5xx.
  nlohmann::json call(const std::string& method, const std::string& target,
                      const nlohmann::json& body = nullptr) const;
  // GETs every page of a list route and answers {"data": [...all...], "has_more": false, ...};
  // with --limit/--cursor, only the page asked for.
  nlohmann::json list(const std::string& path) const;
};

struct SubCommand {
  SubCommandSpec spec;
  std::function<int(const Context&)> run;
};

const std::vector<SubCommand>& partner_commands();
const std::vector<SubCommand>& key_commands();

// The list flags every list sub-command takes.
std::vector<FlagSpec> list_flags();

// Percent-encodes one path segment (ids typed by hand must not change the path).
std::string path_segment(const std::string& text);
// A string member, "-" when null or absent.
std::string text_of(const nlohmann::json& object, const std::string& member);
// "a, b, c" from a JSON array of strings ("-" when empty).
std::string joined(const nlohmann::json& array, const std::string& empty = "-");
// "name  value" lines, aligned.
void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& rows);

}  // namespace portico::partners::cli
