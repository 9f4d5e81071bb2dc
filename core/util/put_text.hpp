// Text written through a pointer into room made beforehand — the response head, the access line,
// the gateway's header lines — with no capacity check per piece: the caller has sized the room.
// And a string reused from one request to the next written over in line rather than through the
// C library (sdk::same_text compares two such texts).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace portico::util {

// GCC judges each branch below against the bounds of the source it is inlined for, where a branch
// that a small source's size can never take would read past it (-Warray-bounds, -Wstringop-*).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#pragma GCC diagnostic ignored "-Wstringop-overflow"

// Copies n bytes from `from` to `to` (which do not overlap). Up to 32 bytes — nearly every piece
// of a request or a response head — with two overlapping loads and stores of the widest size that
// fits, in line: no call into the C library, whose dispatch costs more than the copy at these
// sizes. A constant n (a literal's size) folds to its one case.
[[gnu::always_inline]] inline void copy_bytes(char* to, const char* from, std::size_t n) noexcept {
  if (n >= 8) {
    if (n <= 16) {
      std::uint64_t head, tail;
      std::memcpy(&head, from, 8);
      std::memcpy(&tail, from + n - 8, 8);
      std::memcpy(to, &head, 8);
      std::memcpy(to + n - 8, &tail, 8);
    } else if (n <= 32) {
      char head[16], tail[16];
      std::memcpy(head, from, 16);
      std::memcpy(tail, from + n - 16, 16);
      std::memcpy(to, head, 16);
      std::memcpy(to + n - 16, tail, 16);
    } else {
      std::memcpy(to, from, n);
    }
  } else if (n >= 4) {
    std::uint32_t head, tail;
    std::memcpy(&head, from, 4);
    std::memcpy(&tail, from + n - 4, 4);
    std::memcpy(to, &head, 4);
    std::memcpy(to + n - 4, &tail, 4);
  } else if (n > 0) {  // 1–3 bytes: the first, the middle and the last cover them
    const char first = from[0], middle = from[n / 2], last = from[n - 1];
    to[0] = first;
    to[n / 2] = middle;
    to[n - 1] = last;
  }
}

#pragma GCC diagnostic pop

// Copies `text` to `p` and returns the byte after it.
[[gnu::always_inline]] inline char* put_text(char* p, std::string_view text) noexcept {
  copy_bytes(p, text.data(), text.size());
  return p + text.size();
}

// `s` made equal to `text`, which is not part of it. When `s` already has the room (a string of
// an object reused from one request to the next: the connection's Request), the bytes are copied
// in line and only the length is set — std::string::assign's general path (the aliasing check,
// the tail's move, a call for the copy) costs several times the copy at these sizes.
[[gnu::always_inline]] inline void assign_text(std::string& s, std::string_view text) {
  const std::size_t n = text.size();
  if (n > s.capacity()) {
    s.assign(text);
    return;
  }
  if (n != s.size()) s.resize(n);  // within the capacity: no allocation
  copy_bytes(s.data(), text.data(), n);
}

}  // namespace portico::util
