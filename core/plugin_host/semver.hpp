// Semantic versions and the ranges plugin tables pin them with ("^1.2", "~1.2.3", "1.2.3",
// ">=1.0", "*").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portico::plugin_host {

struct SemVer {
  int major = 0, minor = 0, patch = 0;
  std::string prerelease;
  static std::optional<SemVer> parse(std::string_view text);
  std::string to_string() const;
  friend bool operator<(const SemVer& a, const SemVer& b);
  friend bool operator==(const SemVer& a, const SemVer& b) = default;
};

// Throws std::invalid_argument on a malformed range.
bool satisfies(const SemVer& version, std::string_view range);
bool valid_range(std::string_view range);

}  // namespace portico::plugin_host
