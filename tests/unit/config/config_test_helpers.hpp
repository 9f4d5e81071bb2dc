// Shared helpers for the config tests: parse text and collect error strings.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"

namespace portico::config::test {

// An environment holding exactly `variables`.
inline EnvLookup fake_env(std::map<std::string, std::string> variables = {}) {
  return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
    auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

inline Config parse_ok(std::string_view text, const std::vector<std::string>& overrides = {},
                       const EnvLookup& env = fake_env()) {
  return parse(text, "cfg.toml", overrides, env);
}

// Every error parse() reports for `text` as "file:line key: message"; empty when it succeeds.
inline std::vector<std::string> errors_of(std::string_view text,
                                          const std::vector<std::string>& overrides = {},
                                          const EnvLookup& env = fake_env()) {
  std::vector<std::string> messages;
  try {
    parse(text, "cfg.toml", overrides, env);
  } catch (const ConfigException& error) {
    for (const auto& e : error.errors()) messages.push_back(e.to_string());
  }
  return messages;
}

}  // namespace portico::config::test
