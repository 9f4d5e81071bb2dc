// How much of a text a JSON string takes as it is — printable ASCII other than '"' and '\' —
// tested eight bytes at a time: the access line and the problem bodies write such text straight
// into their output and escape only the rest.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace portico::util {

// A byte a JSON string takes as it is.
inline bool plain_json_byte(unsigned char c) {
  return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

// Whether all 8 bytes at p are plain: a byte below 0x20, from 0x7F up, or a quote or backslash
// sets a high bit in the result. (has_zero(v) is set for a chunk with a zero byte in it; it may
// flag more bytes than that one, never none.)
inline bool plain_json_bytes8(const char* p) {
  constexpr std::uint64_t kOnes = 0x0101010101010101u;
  constexpr std::uint64_t kHighs = 0x8080808080808080u;
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  const auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const std::uint64_t special = ((x - kOnes * 0x20) & ~x & kHighs)  // below 0x20
                                | (x & kHighs)                      // 0x80 and up
                                | has_zero(x ^ (kOnes * 0x7F)) | has_zero(x ^ (kOnes * '"')) |
                                has_zero(x ^ (kOnes * '\\'));
  return special == 0;
}

// The length of the plain run that starts at `from` (0 when text[from] needs escaping).
inline std::size_t plain_json_run(std::string_view text, std::size_t from = 0) {
  std::size_t at = from;
  while (at + 8 <= text.size() && plain_json_bytes8(text.data() + at)) at += 8;
  while (at < text.size() && plain_json_byte(static_cast<unsigned char>(text[at]))) ++at;
  return at - from;
}

// Whether the whole text is plain.
inline bool plain_json_text(std::string_view text) {
  return plain_json_run(text) == text.size();
}

}  // namespace portico::util
