// Semantic versions (semver.org 2.0 precedence) and the version ranges plugin tables pin them with.
// A partial version in a range ("1.2", "2") stands for all its releases: [1.2.0, 1.3.0-0), so
// "<=2.1" admits 2.1.7 and "^1.2" never admits a 2.0.0 prerelease.
#include "core/plugin_host/semver.hpp"

#include <charconv>
#include <stdexcept>
#include <vector>

namespace portico::plugin_host {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A numeric identifier: digits only, no leading zero (semver §2), fits in an int.
std::optional<int> parse_number(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
  }
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

bool valid_prerelease(std::string_view text) {
  for (std::string_view identifier : split(text, '.')) {
    if (identifier.empty()) return false;
    bool numeric = true;
    for (char c : identifier) {
      bool alnum = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
      if (!alnum) return false;
      numeric = numeric && is_digit(c);
    }
    if (numeric && identifier.size() > 1 && identifier.front() == '0') return false;
  }
  return true;
}

// Prerelease precedence: numeric identifiers numerically and below alphanumeric ones, a shorter
// list below a longer one with the same start. An empty prerelease (a release) is highest.
int compare_prerelease(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  if (a.empty()) return 1;
  if (b.empty()) return -1;
  auto left = split(a, '.');
  auto right = split(b, '.');
  for (std::size_t i = 0; i < left.size() && i < right.size(); ++i) {
    auto x = parse_number(left[i]);
    auto y = parse_number(right[i]);
    if (x && y) {
      if (*x != *y) return *x < *y ? -1 : 1;
    } else if (x || y) {
      return x ? -1 : 1;
    } else if (left[i] != right[i]) {
      return left[i] < right[i] ? -1 : 1;
    }
  }
  if (left.size() == right.size()) return 0;
  return left.size() < right.size() ? -1 : 1;
}

int compare(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  return compare_prerelease(a.prerelease, b.prerelease);
}

// "1", "1.2" or "1.2.3[-pre]" as written in a range; `parts` says how many numbers were given.
struct PartialVersion {
  SemVer version;
  int parts = 0;
};

std::invalid_argument bad_range(std::string_view range, const std::string& why) {
  return std::invalid_argument("invalid version range '" + std::string(range) + "': " + why);
}

PartialVersion parse_partial(std::string_view text, std::string_view range) {
  if (auto full = SemVer::parse(text)) return {*full, 3};
  auto numbers = split(text, '.');
  if (numbers.size() <= 2) {
    PartialVersion partial;
    int* fields[] = {&partial.version.major, &partial.version.minor};
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      auto value = parse_number(numbers[i]);
      if (!value) break;
      *fields[i] = *value;
      partial.parts = static_cast<int>(i) + 1;
    }
    if (partial.parts == static_cast<int>(numbers.size())) return partial;
  }
  throw bad_range(range, "'" + std::string(text) + "' is not a version (expected 1, 1.2 or 1.2.3)");
}

// The lowest version above every release sharing v's major (depth 1) or major.minor (depth 2):
// 1.3.0-0 for "1.2", the smallest prerelease of the next line.
SemVer bump(const SemVer& v, int depth) {
  return depth <= 1 ? SemVer{v.major + 1, 0, 0, "0"} : SemVer{v.major, v.minor + 1, 0, "0"};
}

SemVer release_floor(const PartialVersion& p) {
  return p.parts == 3 ? p.version : SemVer{p.version.major, p.version.minor, 0, ""};
}

// One space-separated term of a range; all terms must hold.
bool term_holds(const SemVer& v, std::string_view term, std::string_view range) {
  if (term == "*") return true;
  std::string_view op;
  for (std::string_view candidate : {">=", "<=", ">", "<", "=", "^", "~"}) {
    if (term.substr(0, candidate.size()) == candidate) {
      op = candidate;
      break;
    }
  }
  PartialVersion p = parse_partial(term.substr(op.size()), range);
  const SemVer low = release_floor(p);
  const bool full = p.parts == 3;
  if (op == ">=") return compare(v, low) >= 0;
  if (op == "<") return compare(v, low) < 0;
  if (op == ">") return full ? compare(v, p.version) > 0 : compare(v, bump(low, p.parts)) >= 0;
  if (op == "<=") return full ? compare(v, p.version) <= 0 : compare(v, bump(low, p.parts)) < 0;
  SemVer high;
  if (op == "^") {
    // Same major; for 0.x the minor is the compatibility boundary.
    high = (p.version.major == 0 && p.parts >= 2) ? bump(low, 2) : bump(low, 1);
  } else if (op == "~") {
    high = bump(low, p.parts == 1 ? 1 : 2);
  } else {  // exact, or every release of a partial version
    if (full) return compare(v, p.version) == 0;
    high = bump(low, p.parts);
  }
  return compare(v, low) >= 0 && compare(v, high) < 0;
}

std::vector<std::string> range_terms(std::string_view range) {
  if (range.find("||") != std::string_view::npos) {
    throw bad_range(range, "'||' alternatives are not supported");
  }
  std::vector<std::string> terms;
  std::string pending_operator;  // ">= 1.2": an operator written apart from its version
  for (std::string_view word : split(range, ' ')) {
    if (word.empty()) continue;
    if (word == ">=" || word == "<=" || word == ">" || word == "<" || word == "=" || word == "^" ||
        word == "~") {
      if (!pending_operator.empty()) throw bad_range(range, "two operators in a row");
      pending_operator = word;
      continue;
    }
    terms.push_back(pending_operator + std::string(word));
    pending_operator.clear();
  }
  if (!pending_operator.empty()) throw bad_range(range, "operator without a version");
  return terms;
}

}  // namespace

std::optional<SemVer> SemVer::parse(std::string_view text) {
  // Build metadata ("+sha.1") has no precedence (semver §10): accepted and dropped.
  auto plus = text.find('+');
  if (plus != std::string_view::npos) {
    if (plus + 1 == text.size() || !valid_prerelease(text.substr(plus + 1))) return std::nullopt;
    text = text.substr(0, plus);
  }
  SemVer version;
  auto dash = text.find('-');
  if (dash != std::string_view::npos) {
    version.prerelease = std::string(text.substr(dash + 1));
    if (!valid_prerelease(version.prerelease)) return std::nullopt;
    text = text.substr(0, dash);
  }
  auto numbers = split(text, '.');
  if (numbers.size() != 3) return std::nullopt;
  auto major = parse_number(numbers[0]);
  auto minor = parse_number(numbers[1]);
  auto patch = parse_number(numbers[2]);
  if (!major || !minor || !patch) return std::nullopt;
  version.major = *major;
  version.minor = *minor;
  version.patch = *patch;
  return version;
}

std::string SemVer::to_string() const {
  std::string text =
      std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  if (!prerelease.empty()) text += "-" + prerelease;
  return text;
}

bool operator<(const SemVer& a, const SemVer& b) {
  return compare(a, b) < 0;
}

bool satisfies(const SemVer& version, std::string_view range) {
  // Parse every term first so a malformed range throws whatever the version.
  auto terms = range_terms(range);
  bool all = true;
  for (const std::string& term : terms) {
    // Evaluated for every term (no short cut) so a malformed later term is still reported.
    all = term_holds(version, term, range) && all;
  }
  return all;
}

bool valid_range(std::string_view range) {
  try {
    satisfies(SemVer{}, range);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

}  // namespace portico::plugin_host
