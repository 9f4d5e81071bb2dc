// ConfigError's "file:line key: message" form and the exception that carries every error.
#include <string>
#include <utility>
#include <vector>

#include "core/config/config.hpp"

namespace portico::config {
namespace {

std::string join_errors(const std::vector<ConfigError>& errors) {
  std::string text;
  for (const auto& error : errors) {
    if (!text.empty()) text += '\n';
    text += error.to_string();
  }
  return text;
}

}  // namespace

std::string ConfigError::to_string() const {
  std::string text = file;
  if (line > 0) text += ":" + std::to_string(line);
  if (!key.empty()) text += " " + key;
  text += ": " + message;
  return text;
}

ConfigException::ConfigException(std::vector<ConfigError> errors)
    : std::runtime_error(join_errors(errors)), errors_(std::move(errors)) {}

}  // namespace portico::config
