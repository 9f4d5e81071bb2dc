// Conditional requests (RFC 9110 §13.1) against a resource's current strong entity tag.
//   If-None-Match (GET, 304): "*" or any listed tag, compared weakly (W/"x" matches "x").
//   If-Match (updates, 412): "*" or any listed tag, compared strongly (a weak tag never matches).
// Entries that are not entity tags are ignored, so a malformed If-None-Match never produces a
// 304 and a malformed If-Match never lets an update through.
#pragma once

#include <string_view>

namespace portico::sdk {

namespace detail {

// Calls hit(tag) for each entity tag of a comma-separated header ("*" passed as is) until it
// returns true; answers whether one did.
template <typename Hit>
bool any_entity_tag(std::string_view header, Hit hit) {
  std::size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == '\t' || header[at] == ','))
      ++at;
    if (at >= header.size()) break;
    if (header[at] == '*') {
      std::size_t next = at + 1;
      while (next < header.size() && (header[next] == ' ' || header[next] == '\t')) ++next;
      if ((next == header.size() || header[next] == ',') && hit(std::string_view("*"))) return true;
    }
    std::size_t start = at;
    if (header.substr(at, 2) == "W/") at += 2;
    if (at < header.size() && header[at] == '"') {
      std::size_t close = header.find('"', at + 1);
      if (close == std::string_view::npos) return false;
      if (hit(header.substr(start, close + 1 - start))) return true;
      at = close + 1;
    }
    // Skip to the next comma (also past anything malformed).
    while (at < header.size() && header[at] != ',') ++at;
  }
  return false;
}

inline std::string_view opaque_tag(std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  return tag;
}

}  // namespace detail

inline bool if_none_match_hits(std::string_view header, std::string_view etag) {
  const std::string_view wanted = detail::opaque_tag(etag);
  return detail::any_entity_tag(header, [&](std::string_view tag) {
    return tag == "*" || detail::opaque_tag(tag) == wanted;
  });
}

// A real revalidation: `etag` is strong and listed, strongly, in If-None-Match. `*` and weak tags
// do not count (what earns a 304 its rate-limit refund).
inline bool if_none_match_strong_hit(std::string_view header, std::string_view etag) {
  if (etag.starts_with("W/") || etag.empty()) return false;
  return detail::any_entity_tag(header, [&](std::string_view tag) { return tag == etag; });
}

inline bool if_match_hits(std::string_view header, std::string_view etag) {
  if (etag.starts_with("W/")) return false;
  return detail::any_entity_tag(header, [&](std::string_view tag) {
    return tag == "*" || (!tag.starts_with("W/") && tag == etag);
  });
}

}  // namespace portico::sdk
