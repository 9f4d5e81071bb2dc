// ${VAR} and ${VAR:-fallback} in string values, looked up through an injectable EnvLookup.
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/toml_tree.hpp"
#include "core/util/strings.hpp"

namespace portico::config {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Like the shell: ${VAR} needs VAR set (empty is fine); ${VAR:-x} uses x when VAR is unset or
// empty. "$${" is a literal "${". Problems leave the reference as written.
// A fallback put in force by expand(): the variable, the text used, whether VAR was set but empty.
struct UsedFallback {
  std::string variable;
  std::string fallback;
  bool variable_empty = false;
};

std::string expand(std::string_view text, const EnvLookup& env, std::vector<std::string>& problems,
                   std::vector<UsedFallback>& fallbacks) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text.substr(pos, 3) == "$${") {
      out += "${";
      pos += 3;
      continue;
    }
    if (text.substr(pos, 2) != "${") {
      out += text[pos++];
      continue;
    }
    auto close = text.find('}', pos + 2);
    if (close == std::string_view::npos) {
      problems.push_back("unterminated \"${\" (write ${NAME} or ${NAME:-fallback})");
      out += text.substr(pos);
      break;
    }
    std::string_view reference = text.substr(pos, close + 1 - pos);
    std::string_view inner = text.substr(pos + 2, close - pos - 2);
    auto separator = inner.find(":-");
    std::string name(inner.substr(0, separator));
    pos = close + 1;
    if (!valid_name(name)) {
      problems.push_back("invalid environment variable name \"" + name + "\"");
      out += reference;
      continue;
    }
    std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (separator != std::string_view::npos && (!value || value->empty())) {
      out += inner.substr(separator + 2);
      fallbacks.push_back({name, std::string(inner.substr(separator + 2)), value.has_value()});
    } else if (value && !util::is_utf8(*value)) {
      // Settings become JSON and log lines: bytes that are not UTF-8 would break every answer
      // that shows them. The value is not quoted back (it may be a secret).
      problems.push_back("environment variable " + name + " is not valid UTF-8 text");
    } else if (value) {
      out += *value;
    } else {
      problems.push_back("environment variable " + name + " is not set");
      out += reference;
    }
  }
  return out;
}

struct Substitution {
  const std::string& file;
  const EnvLookup& env;
  std::vector<ConfigError>& errors;
  std::vector<EnvFallback>* fallbacks;

  void visit(toml::node& node, const std::string& key) {
    if (auto* string = node.as_string()) {
      std::vector<std::string> problems;
      std::vector<UsedFallback> used;
      string->get() = expand(string->get(), env, problems, used);
      for (auto& problem : problems) {
        errors.push_back(make_error(origin_of(node, file), key, std::move(problem)));
      }
      if (fallbacks && !used.empty()) {
        Origin origin = origin_of(node, file);
        for (auto& fallback : used) {
          fallbacks->push_back({key, std::move(fallback.variable), std::move(fallback.fallback),
                                origin.file, origin.line, fallback.variable_empty});
        }
      }
    } else if (auto* array = node.as_array()) {
      for (auto& element : *array) visit(element, key);
    } else if (auto* table = node.as_table()) {
      for (auto&& [name, child] : *table) {
        visit(child, key.empty() ? std::string(name.str()) : key + "." + std::string(name.str()));
      }
    }
  }
};

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

void substitute_env(toml::table& root, const std::string& file, const EnvLookup& env,
                    std::vector<ConfigError>& errors, std::vector<EnvFallback>* fallbacks) {
  Substitution{file, env, errors, fallbacks}.visit(root, "");
}

}  // namespace portico::config
