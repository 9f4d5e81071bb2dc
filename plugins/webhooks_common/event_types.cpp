#include "webhooks_common/event_types.hpp"

#include <algorithm>

#include "portico/sdk/query.hpp"

namespace portico::webhooks {

namespace {

std::string in_quotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Every valid filter: the types, one prefix wildcard per category, and "*".
std::vector<std::string> valid_filters() {
  std::vector<std::string> all(kEventTypes.begin(), kEventTypes.end());
  for (std::string_view type : kEventTypes) {
    std::string wildcard = std::string(type.substr(0, type.find('.'))) + ".*";
    if (std::find(all.begin(), all.end(), wildcard) == all.end()) all.push_back(wildcard);
  }
  all.push_back("*");
  return all;
}

// The valid filter `filter` is most plausibly a typo of; empty when none is close.
std::string closest_filter(std::string_view filter) {
  const std::string word = lowercase(filter);
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const std::string& candidate : valid_filters()) {
    const std::size_t distance = sdk::edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  if (best == filter) return {};
  // A typo, not another word: at most about a third of the longer text differs.
  const std::size_t longest = std::max(word.size(), best.size());
  if (best_distance * 3 > longest + 1) return {};
  return best;
}

std::string hint(std::string_view filter) {
  const std::string closest = closest_filter(filter);
  return closest.empty() ? std::string() : "; did you mean " + in_quotes(closest) + "?";
}

}  // namespace

bool is_known_type(std::string_view type) {
  return std::find(kEventTypes.begin(), kEventTypes.end(), type) != kEventTypes.end();
}

bool matches(std::string_view filter, std::string_view type) {
  if (filter == "*") return true;
  if (filter.size() > 2 && filter.ends_with(".*")) {
    return type.starts_with(filter.substr(0, filter.size() - 1));
  }
  return filter == type;
}

bool matches(const std::vector<std::string>& filters, std::string_view type) {
  return std::any_of(filters.begin(), filters.end(),
                     [&](const std::string& filter) { return matches(filter, type); });
}

bool is_valid_filter(std::string_view filter) {
  if (filter == "*") return true;
  if (filter.find('*') == std::string_view::npos) return is_known_type(filter);
  if (filter.size() < 3 || !filter.ends_with(".*")) return false;
  if (filter.substr(0, filter.size() - 1).find('*') != std::string_view::npos) return false;
  return std::any_of(kEventTypes.begin(), kEventTypes.end(),
                     [&](std::string_view type) { return matches(filter, type); });
}

std::vector<FieldError> validate_filters(const std::vector<std::string>& filters,
                                         const std::string& field) {
  std::vector<FieldError> errors;
  if (filters.empty()) {
    errors.push_back({field, "must list at least one event type or pattern ('*' for all)"});
    return errors;
  }
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const std::string& filter = filters[i];
    const std::string name = field + "[" + std::to_string(i) + "]";
    if (is_valid_filter(filter)) continue;
    if (filter.empty()) {
      errors.push_back({name, "must not be empty"});
    } else if (filter.find('*') == std::string::npos) {
      errors.push_back({name, "unknown event type " + in_quotes(filter) + hint(filter)});
    } else if (filter.size() >= 3 && filter.ends_with(".*") &&
               filter.substr(0, filter.size() - 1).find('*') == std::string::npos) {
      errors.push_back({name, in_quotes(filter) + " matches no event type" + hint(filter)});
    } else {
      std::string message = "unsupported pattern " + in_quotes(filter) +
                            ": use an exact event type, a prefix wildcard like 'order.*', or '*'";
      const std::string closest = closest_filter(filter);
      if (!closest.empty()) message += "; did you mean " + in_quotes(closest) + "?";
      errors.push_back({name, std::move(message)});
    }
  }
  return errors;
}

}  // namespace portico::webhooks
