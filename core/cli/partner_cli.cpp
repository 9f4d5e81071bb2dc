// `portico partner ...`, the shared pieces of the admin sub-commands, and the dispatcher.
#include "core/cli/partner_cli.hpp"

#include <algorithm>
#include <cctype>

#include "core/cli/cli_context.hpp"
#include "core/util/strings.hpp"
#include "portico/sdk/json.hpp"

namespace portico::partners::cli {

using json = nlohmann::json;

json Context::call(const std::string& method, const std::string& target, const json& body) const {
  AdminReply reply = transport(method, target, body.is_null() ? "" : body.dump());
  sdk::JsonParse read = sdk::parse_json(reply.body);
  json parsed = reply.body.empty() ? json(nullptr)
                : read.ok()        ? std::move(read.value)
                                   : json(json::value_t::discarded);
  if (reply.status >= 400) {
    std::string detail = "the admin API answered " + std::to_string(reply.status);
    if (parsed.is_object() && parsed.contains("detail") && parsed["detail"].is_string())
      detail = parsed["detail"].get<std::string>();
    throw ApiProblem(reply.status, parsed, detail);
  }
  if (parsed.is_discarded())
    throw std::runtime_error("the admin API answered " + std::to_string(reply.status) +
                             " with a body that is not JSON");
  return parsed;
}

json Context::list(const std::string& path) const {
  if (args.has("--limit") || args.has("--cursor")) {
    std::string query;
    if (auto* limit = args.value("--limit")) query += "limit=" + path_segment(*limit);
    if (auto* cursor = args.value("--cursor"))
      query += (query.empty() ? "" : "&") + std::string("cursor=") + path_segment(*cursor);
    return call("GET", path + "?" + query);
  }
  json all = json::array();
  std::string cursor;
  for (int page = 0; page < 10000; ++page) {
    json answer = call(
        "GET", path + "?limit=100" + (cursor.empty() ? "" : "&cursor=" + path_segment(cursor)));
    for (auto& item : answer["data"]) all.push_back(std::move(item));
    if (!answer.value("has_more", false) || !answer["next_cursor"].is_string()) break;
    cursor = answer["next_cursor"].get<std::string>();
  }
  return {{"data", all}, {"has_more", false}, {"next_cursor", nullptr}};
}

std::vector<FlagSpec> list_flags() {
  return {{"--limit", "N", "one page of at most N (1-100) instead of everything"},
          {"--cursor", "CURSOR", "the page after CURSOR (next_cursor of the previous page)"}};
}

std::string path_segment(const std::string& text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', hex[c >> 4], hex[c & 15]};
    }
  }
  return out;
}

std::string text_of(const json& object, const std::string& member) {
  auto it = object.find(member);
  if (it == object.end() || it->is_null()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string joined(const json& array, const std::string& empty) {
  std::string out;
  if (!array.is_array()) return empty;
  for (const auto& item : array)
    out += (out.empty() ? "" : ", ") + (item.is_string() ? item.get<std::string>() : item.dump());
  return out.empty() ? empty : out;
}

void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& rows) {
  std::size_t width = 0;
  for (const auto& [name, value] : rows) width = std::max(width, name.size());
  for (const auto& [name, value] : rows)
    out << name << std::string(width - name.size() + 2, ' ') << value << "\n";
}

namespace {

const std::string kPartners = "/admin/v1/partners";

void print_partner(std::ostream& out, const json& p) {
  std::int64_t override_limit = p.value("rate_limit_override", std::int64_t{0});
  print_fields(out, {{"id", text_of(p, "id")},
                     {"name", text_of(p, "name")},
                     {"tier", text_of(p, "tier")},
                     {"status", text_of(p, "status")},
                     {"allowed_cidrs", joined(p["allowed_cidrs"], "any address")},
                     {"rate_limit", override_limit == 0
                                        ? "the tier's"
                                        : std::to_string(override_limit) + " per tier window"},
                     {"created_at", text_of(p, "created_at")},
                     {"updated_at", text_of(p, "updated_at")}});
}

std::int64_t rate_limit_flag(const std::string& text) {
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(
        "--rate-limit needs a whole number of requests per tier window (0 = the tier's)");
  return std::stoll(text);
}

// The partner fields given as flags, for add and update.
json partner_body(const ParsedArgs& args) {
  json body = json::object();
  if (auto* name = args.value("--name")) body["name"] = *name;
  if (auto* tier = args.value("--tier")) body["tier"] = *tier;
  if (auto* status = args.value("--status")) body["status"] = *status;
  if (args.has("--cidr") && args.has("--any-ip"))
    throw UsageError("--cidr and --any-ip contradict each other");
  if (args.has("--cidr")) body["allowed_cidrs"] = args.all("--cidr");
  if (args.has("--any-ip")) body["allowed_cidrs"] = json::array();
  if (auto* limit = args.value("--rate-limit"))
    body["rate_limit_override"] = rate_limit_flag(*limit);
  return body;
}

FlagSpec cidr_flag() {
  return {"--cidr", "CIDR", "allow only this IPv4/IPv6 address or block", true};
}
FlagSpec rate_limit_spec() {
  return {"--rate-limit", "N", "requests per tier window for this partner (0 = the tier's)"};
}

void print_partner_list(std::ostream& out, const json& answer) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : answer["data"]) {
    rows.push_back({text_of(p, "id"), text_of(p, "name"), text_of(p, "tier"), text_of(p, "status"),
                    joined(p["allowed_cidrs"], "any"), text_of(p, "created_at")});
  }
  print_table(out, {"ID", "NAME", "TIER", "STATUS", "ALLOWED IPS", "CREATED"}, rows);
  if (answer.value("has_more", false))
    out << "(more: --cursor " << text_of(answer, "next_cursor") << ")\n";
}

int partner_add(const Context& c) {
  if (!c.args.has("--name")) throw UsageError("--name is required");
  if (!c.args.has("--tier")) throw UsageError("--tier is required");
  json partner = c.call("POST", kPartners, partner_body(c.args));
  if (c.args.json) {
    c.out << partner.dump(2) << "\n";
  } else {
    c.out << "Created partner " << text_of(partner, "id") << ".\n\n";
    print_partner(c.out, partner);
    c.out << "\nIssue its first key: portico key issue " << text_of(partner, "id") << "\n";
  }
  return 0;
}

int partner_list(const Context& c) {
  json answer = c.list(kPartners);
  if (c.args.json) {
    c.out << answer.dump(2) << "\n";
  } else if (answer["data"].empty()) {
    c.out << "No partners yet. Add one: portico partner add --name NAME --tier TIER\n";
  } else {
    print_partner_list(c.out, answer);
  }
  return 0;
}

int partner_show(const Context& c) {
  std::string path = kPartners + "/" + path_segment(c.args.positional[0]);
  json partner = c.call("GET", path);
  json keys = c.list(path + "/keys")["data"];  // every page, newest first, never a secret
  if (c.args.json) {
    partner["keys"] = keys;
    c.out << partner.dump(2) << "\n";
    return 0;
  }
  print_partner(c.out, partner);
  c.out << "\n";
  if (keys.empty()) {
    c.out << "No API keys.\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : keys) {
    rows.push_back({text_of(k, "id"), text_of(k, "prefix"), text_of(k, "status"),
                    text_of(k, "last_used_at"), text_of(k, "expires_at")});
  }
  print_table(c.out, {"KEY", "PREFIX", "STATUS", "LAST USED", "EXPIRES"}, rows);
  return 0;
}

int partner_update(const Context& c) {
  json body = partner_body(c.args);
  if (body.empty()) throw UsageError("nothing to change; give at least one option (see --help)");
  json partner = c.call("PATCH", kPartners + "/" + path_segment(c.args.positional[0]), body);
  if (c.args.json) {
    c.out << partner.dump(2) << "\n";
  } else {
    c.out << "Updated partner " << text_of(partner, "id")
          << "; in effect from the next request.\n\n";
    print_partner(c.out, partner);
  }
  return 0;
}

int partner_disable(const Context& c) {
  json partner = c.call("PATCH", kPartners + "/" + path_segment(c.args.positional[0]),
                        {{"status", "disabled"}});
  if (c.args.json) {
    c.out << partner.dump(2) << "\n";
  } else {
    c.out << "Disabled partner " << text_of(partner, "id")
          << "; its keys are refused from the next request.\n";
  }
  return 0;
}

}  // namespace

const std::vector<SubCommand>& partner_commands() {
  static const std::vector<SubCommand> commands = {
      {{"add",
        {},
        "Create a partner.",
        {{"--name", "NAME", "partner name (required)"},
         {"--tier", "TIER", "rate-limit tier from [tiers.*], e.g. basic (required)"},
         cidr_flag(),
         rate_limit_spec()}},
       partner_add},
      {{"list", {}, "List partners, newest first.", list_flags()}, partner_list},
      {{"show", {"PARTNER_ID"}, "Show a partner and its API keys.", {}}, partner_show},
      {{"update",
        {"PARTNER_ID"},
        "Change a partner; takes effect on its next request.",
        {{"--name", "NAME", "new name"},
         {"--tier", "TIER", "new rate-limit tier"},
         {"--status", "STATUS", "active or disabled"},
         cidr_flag(),
         {"--any-ip", "", "remove the IP allow-list"},
         rate_limit_spec()}},
       partner_update},
      {{"disable", {"PARTNER_ID"}, "Disable a partner: all its keys stop working at once.", {}},
       partner_disable},
  };
  return commands;
}

const std::vector<CommandGroup>& admin_command_groups() {
  static const std::vector<CommandGroup> groups = {
      {"partner", "Manage partners: add, list, show, update, disable (via the admin API)"},
      {"key", "Manage a partner's API keys: issue, list, revoke, rotate (via the admin API)"},
  };
  return groups;
}

bool is_admin_command_group(const std::string& name) {
  return name == "partner" || name == "key";
}

int run_admin_command(const std::string& group, const std::vector<std::string>& args,
                      const TransportFactory& connect, std::ostream& out, std::ostream& err) {
  const auto& commands = group == "partner" ? partner_commands() : key_commands();
  std::vector<std::string> names;
  for (const auto& c : commands) names.push_back(c.spec.name);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : "|") + n;
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    auto& stream = args.empty() ? err : out;
    stream << "Usage: portico " << group << " <" << list << "> [options]\n\n";
    for (const auto& c : commands)
      stream << "  " << c.spec.name << std::string(10 - c.spec.name.size(), ' ') << c.spec.summary
             << "\n";
    stream << "\nRun 'portico " << group << " <command> --help' for its options.\n";
    return args.empty() ? 2 : 0;
  }
  const SubCommand* command = nullptr;
  for (const auto& c : commands) {
    if (c.spec.name == args[0]) command = &c;
  }
  if (!command) {
    std::string hint = util::closest_match(args[0], names);
    err << "portico " << group << ": unknown command '" << args[0] << "'"
        << (hint.empty() ? "" : " (did you mean '" + hint + "'?)") << "; commands: " << list
        << "\n";
    return 2;
  }
  std::string where = "portico " + group + " " + command->spec.name;
  try {
    ParsedArgs parsed = parse_args(command->spec, {args.begin() + 1, args.end()});
    if (parsed.help) {
      print_sub_command_help(group, command->spec, out);
      return 0;
    }
    Context context{parsed, connect({parsed.config_file, parsed.admin_url}), out};
    return command->run(context);
  } catch (const UsageError& e) {
    err << where << ": " << e.what() << "\nRun '" << where << " --help' for its options.\n";
    return 2;
  } catch (const ApiProblem& e) {
    err << where << ": " << e.what() << "\n";
    // One field error is the detail already; several are listed one per line.
    if (e.body.is_object() && e.body.contains("errors") && e.body["errors"].is_array() &&
        e.body["errors"].size() > 1) {
      for (const auto& fe : e.body["errors"])
        err << "  " << text_of(fe, "field") << ": " << text_of(fe, "message") << "\n";
    }
    if (e.status == 401) err << "Check the admin token (PORTICO_ADMIN_TOKEN or admin.token).\n";
    return 1;
  }
}

}  // namespace portico::partners::cli
