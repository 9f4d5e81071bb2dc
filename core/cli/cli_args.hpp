// Argument parsing and output helpers for the admin sub-commands (`portico partner ...`,
// `portico key ...`): declared flags with did-you-mean, positional arguments, usage text, and
// aligned tables.
#pragma once

#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace portico::partners::cli {

// Bad usage: printed after "portico <group> <command>: " and answered with exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FlagSpec {
  std::string name;        // "--tier"
  std::string value_name;  // "TIER"; empty = a switch without value
  std::string help;
  bool repeatable = false;
};

struct SubCommandSpec {
  std::string name;                     // "add"
  std::vector<std::string> positional;  // {"PARTNER_ID", "KEY_ID"}
  std::string summary;
  std::vector<FlagSpec> flags;  // besides the common ones
};

// Common to every sub-command: -c/--config FILE, --admin URL, --json, -h/--help.
struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // flag → values (switches: {""})
  std::string config_file;                                 // empty = default
  std::string admin_url;                                   // empty = from the config
  bool json = false;
  bool help = false;

  bool has(const std::string& flag) const { return values.count(flag) > 0; }
  const std::string* value(const std::string& flag) const;  // last value, or null
  std::vector<std::string> all(const std::string& flag) const;
};

// Parses `args` (everything after the sub-command name). Throws UsageError for unknown flags
// (with a did-you-mean hint), missing values, and a wrong number of positional arguments (unless
// --help is given).
ParsedArgs parse_args(const SubCommandSpec& spec, const std::vector<std::string>& args);

void print_sub_command_help(const std::string& group, const SubCommandSpec& spec,
                            std::ostream& out);

// Columns padded to the widest cell; two spaces between columns.
void print_table(std::ostream& out, const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows);

}  // namespace portico::partners::cli
