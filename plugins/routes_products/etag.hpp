// Conditional GETs (RFC 9110 §13.1.2): does an If-None-Match header match the current strong
// entity tag? "*" matches any current representation; otherwise the header is a comma-separated
// list of entity tags compared weakly (W/"x" matches "x"), as If-None-Match requires. Entries
// that are not entity tags are ignored, so a malformed header never produces a 304.
#pragma once

#include <string_view>

namespace portico::routes_products {

inline bool if_none_match_hits(std::string_view header, std::string_view etag) {
  auto opaque = [](std::string_view tag) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    return tag;
  };
  const std::string_view wanted = opaque(etag);
  std::size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == '\t' || header[at] == ','))
      ++at;
    if (at >= header.size()) break;
    if (header[at] == '*') {
      std::size_t next = at + 1;
      while (next < header.size() && (header[next] == ' ' || header[next] == '\t')) ++next;
      if (next == header.size() || header[next] == ',') return true;
    }
    std::size_t start = at;
    if (header.substr(at, 2) == "W/") at += 2;
    if (at < header.size() && header[at] == '"') {
      std::size_t close = header.find('"', at + 1);
      if (close == std::string_view::npos) return false;
      if (opaque(header.substr(start, close + 1 - start)) == wanted) return true;
      at = close + 1;
    }
    // Skip to the next comma (also past anything malformed).
    while (at < header.size() && header[at] != ',') ++at;
  }
  return false;
}

}  // namespace portico::routes_products
