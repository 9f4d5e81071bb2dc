// Text written through a pointer into room made beforehand — the response head, the access line,
// the gateway's header lines — with no capacity check per piece: the caller has sized the room.
#pragma once

#include <cstring>
#include <string_view>

namespace portico::util {

// Copies `text` to `p` and returns the byte after it. An empty view's data may be null, which
// memcpy may not be given.
inline char* put_text(char* p, std::string_view text) noexcept {
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

}  // namespace portico::util
