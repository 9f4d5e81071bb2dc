// Flag parsing, help text and tables for the admin sub-commands.
#include "core/cli/cli_args.hpp"

#include <algorithm>
#include <optional>

#include "core/util/strings.hpp"

namespace portico::partners::cli {
namespace {

const std::vector<FlagSpec>& common_flags() {
  static const std::vector<FlagSpec> flags = {
      {"--config", "FILE",
       "config file, for the admin URL and token (default: $PORTICO_CONFIG, "
       "else configs/portico.toml)"},
      {"--admin", "URL", "admin API base URL (default: http://<admin.listen> of the config)"},
      {"--json", "", "print the admin API's JSON"},
      {"--help", "", "show this help"},
  };
  return flags;
}

const FlagSpec* find_flag(const SubCommandSpec& spec, const std::string& name) {
  for (const auto& f : spec.flags) {
    if (f.name == name) return &f;
  }
  for (const auto& f : common_flags()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Terminal columns of UTF-8 text: East Asian wide characters take two.
std::size_t display_width(const std::string& text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = byte < 0x80    ? 1
                         : byte >= 0xF0 ? 4
                         : byte >= 0xE0 ? 3
                         : byte >= 0xC0 ? 2
                                        : 1;
    char32_t cp = length == 1 ? byte : byte & (0x3F >> (length - 1));
    for (std::size_t k = 1; k < length && i + k < text.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
                (cp >= 0x20000 && cp <= 0x3FFFD);
    width += wide ? 2 : 1;
    i += length;
  }
  return width;
}

}  // namespace

const std::string* ParsedArgs::value(const std::string& flag) const {
  auto it = values.find(flag);
  return it == values.end() || it->second.empty() ? nullptr : &it->second.back();
}

std::vector<std::string> ParsedArgs::all(const std::string& flag) const {
  auto it = values.find(flag);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

ParsedArgs parse_args(const SubCommandSpec& spec, const std::vector<std::string>& args) {
  ParsedArgs parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-h") arg = "--help";
    if (arg == "-c") arg = "--config";
    if (arg.size() < 2 || arg[0] != '-' || arg == "--") {
      if (arg == "--") {
        for (++i; i < args.size(); ++i) parsed.positional.push_back(args[i]);
        break;
      }
      parsed.positional.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos && arg.starts_with("--")) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    const FlagSpec* flag = find_flag(spec, name);
    if (!flag) {
      std::vector<std::string> known;
      for (const auto& f : spec.flags) known.push_back(f.name);
      for (const auto& f : common_flags()) known.push_back(f.name);
      std::string hint = util::closest_match(name, known);
      throw UsageError("unknown option '" + name + "'" +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    std::string value;
    if (!flag->value_name.empty()) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        throw UsageError(name + " needs a value (" + flag->value_name + ")");
      }
    } else if (inline_value) {
      throw UsageError(name + " takes no value");
    }
    if (name == "--help") {
      parsed.help = true;
    } else if (name == "--json") {
      parsed.json = true;
    } else if (name == "--config") {
      parsed.config_file = value;
    } else if (name == "--admin") {
      parsed.admin_url = value;
    } else {
      auto& slot = parsed.values[name];
      if (!flag->repeatable && !slot.empty()) throw UsageError(name + " given twice");
      slot.push_back(value);
    }
  }
  if (!parsed.help && parsed.positional.size() != spec.positional.size()) {
    std::string expected;
    for (const auto& p : spec.positional) expected += " " + p;
    if (parsed.positional.size() < spec.positional.size()) {
      throw UsageError("missing " + spec.positional[parsed.positional.size()] +
                       " (usage: " + spec.name + expected + " [options])");
    }
    throw UsageError("unexpected argument '" + parsed.positional[spec.positional.size()] + "'");
  }
  return parsed;
}

void print_sub_command_help(const std::string& group, const SubCommandSpec& spec,
                            std::ostream& out) {
  out << "Usage: portico " << group << " " << spec.name;
  for (const auto& p : spec.positional) out << " " << p;
  out << " [options]\n\n" << spec.summary << "\n\nOptions:\n";
  std::vector<std::vector<std::string>> rows;
  auto add = [&](const FlagSpec& f) {
    std::string left = f.name + (f.value_name.empty() ? "" : " " + f.value_name);
    if (f.name == "--config") left = "-c, " + left;
    if (f.name == "--help") left = "-h, " + left;
    rows.push_back({"  " + left, f.help + (f.repeatable ? " (repeatable)" : "")});
  };
  for (const auto& f : spec.flags) add(f);
  for (const auto& f : common_flags()) add(f);
  std::size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r[0].size());
  for (const auto& r : rows)
    out << r[0] << std::string(width - r[0].size() + 2, ' ') << r[1] << "\n";
}

void print_table(std::ostream& out, const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(headers.size());
  for (std::size_t c = 0; c < headers.size(); ++c) widths[c] = display_width(headers[c]);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], display_width(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < widths.size(); ++c) {
      std::string cell = c < cells.size() ? cells[c] : "";
      text += cell;
      if (c + 1 < widths.size()) text += std::string(widths[c] - display_width(cell) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << "\n";
  };
  line(headers);
  for (const auto& row : rows) line(row);
}

}  // namespace portico::partners::cli
