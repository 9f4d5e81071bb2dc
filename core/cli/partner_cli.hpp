// `portico partner add|list|show|update|disable` and `portico key issue|list|revoke|rotate`:
// thin clients of the admin API (the one implementation), over a transport the caller provides
// (admin_commands.cpp uses an HTTP client; tests dispatch to the admin routes in-process).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace portico::partners::cli {

struct AdminReply {
  int status = 0;
  std::string body;
};

// One admin API call: method, target below the base URL (e.g. "/admin/v1/partners?limit=100"),
// JSON body (empty = none). Throws when the API cannot be reached.
using AdminTransport = std::function<AdminReply(
    const std::string& method, const std::string& target, const std::string& body)>;

// Where the command was told to go: -c/--config FILE and --admin URL (empty = not given).
struct AdminTarget {
  std::string config_file;
  std::string admin_url;
};
using TransportFactory = std::function<AdminTransport(const AdminTarget&)>;

struct CommandGroup {
  std::string name;  // "partner", "key"
  std::string summary;
};
const std::vector<CommandGroup>& admin_command_groups();
bool is_admin_command_group(const std::string& name);

// Runs `portico <group> ...`; `args` are the arguments after the group name. Returns 0 on
// success, 1 when the admin API answers a problem (its detail and field errors go to `err`), 2 on
// bad usage. Errors of `connect` or of the transport (unreachable API, bad config) propagate.
int run_admin_command(const std::string& group, const std::vector<std::string>& args,
                      const TransportFactory& connect, std::ostream& out, std::ostream& err);

}  // namespace portico::partners::cli
