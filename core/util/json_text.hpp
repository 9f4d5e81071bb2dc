// How much of a text is plain — printable ASCII, for a JSON string other than '"' and '\' too —
// tested sixteen or eight bytes at a time: the access line and the problem bodies write such text
// straight into their output and escape only the rest; the header scan takes it as it is.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace portico::util {

// Printable ASCII (0x20–0x7E): what the header scan takes as it is. Json: not '"' or '\' either,
// what a JSON string takes as it is.
enum class Plain { printable, json };

template <Plain kind>
inline bool plain_byte(unsigned char c) {
  return c >= 0x20 && c < 0x7F && (kind == Plain::printable || (c != '"' && c != '\\'));
}

// Whether all 8 bytes at p are plain: a byte below 0x20, from 0x7F up, or (json) a quote or
// backslash sets a high bit in the result. (has_zero(v) is set for a chunk with a zero byte in
// it; it may flag more bytes than that one, never none.)
template <Plain kind>
inline bool plain_bytes8(const char* p) {
  constexpr std::uint64_t kOnes = 0x0101010101010101u;
  constexpr std::uint64_t kHighs = 0x8080808080808080u;
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  const auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  std::uint64_t special = ((x - kOnes * 0x20) & ~x & kHighs)  // below 0x20
                          | (x & kHighs)                      // 0x80 and up
                          | has_zero(x ^ (kOnes * 0x7F));
  if constexpr (kind == Plain::json) {
    special |= has_zero(x ^ (kOnes * '"')) | has_zero(x ^ (kOnes * '\\'));
  }
  return special == 0;
}

// The length of the plain run that starts at `from` (0 when text[from] is not plain). From 16
// bytes up, sixteen at a time with SSE2 (every x86-64 has it), the last block overlapping the one
// before; shorter texts eight at a time, the last eight overlapping, then a byte at a time from
// where a chunk is not plain.
template <Plain kind>
inline std::size_t plain_run(std::string_view text, std::size_t from = 0) {
  const char* const data = text.data();
  const std::size_t size = text.size();
  std::size_t at = from;
#if defined(__SSE2__)
  if (size >= 16) {
    // A signed compare: bytes from 0x80 up are negative, so "below 0x20" catches them too.
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i del = _mm_set1_epi8(0x7F);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    for (;;) {
      const std::size_t block = at + 16 <= size ? at : size - 16;
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + block));
      __m128i special = _mm_or_si128(_mm_cmplt_epi8(x, space), _mm_cmpeq_epi8(x, del));
      if constexpr (kind == Plain::json) {
        special = _mm_or_si128(
            special, _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
      }
      // The bytes before `at` in an overlapping block were read before (or are not asked about).
      const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special)) >> (at - block);
      if (mask != 0) return static_cast<std::size_t>(__builtin_ctz(mask)) + at - from;
      at = block + 16;
      if (at >= size) return size - from;
    }
  }
#endif
  if (at + 8 <= size && plain_bytes8<kind>(data + at)) {
    at += 8;
    if (size >= 8 && plain_bytes8<kind>(data + size - 8)) return size - from;
  }
  while (at < size && plain_byte<kind>(static_cast<unsigned char>(data[at]))) ++at;
  return at - from;
}

// What a JSON string takes as it is.
inline bool plain_json_byte(unsigned char c) {
  return plain_byte<Plain::json>(c);
}
inline bool plain_json_bytes8(const char* p) {
  return plain_bytes8<Plain::json>(p);
}
inline std::size_t plain_json_run(std::string_view text, std::size_t from = 0) {
  return plain_run<Plain::json>(text, from);
}
inline bool plain_json_text(std::string_view text) {
  return plain_json_run(text) == text.size();
}

}  // namespace portico::util
