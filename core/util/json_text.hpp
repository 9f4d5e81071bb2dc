// How much of a text a JSON string takes as it is — printable ASCII other than '"' and '\' —
// tested sixteen or eight bytes at a time: the access line and the problem bodies write such text
// straight into their output and escape only the rest.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// The length of the plain run that starts at `from` (0 when text[from] needs escaping). From 16
// bytes up, sixteen at a time with SSE2 (every x86-64 has it), the last block overlapping the one
// before; shorter texts eight at a time, the last eight overlapping, then a byte at a time from
// where a chunk is not plain.
inline std::size_t plain_json_run(std::string_view text, std::size_t from = 0) {
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
      const __m128i special =
          _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(x, space), _mm_cmpeq_epi8(x, del)),
                       _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
      // The bytes before `at` in an overlapping block were read before (or are not asked about).
      const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special)) >> (at - block);
      if (mask != 0) return static_cast<std::size_t>(__builtin_ctz(mask)) + at - from;
      at = block + 16;
      if (at >= size) return size - from;
    }
  }
#endif
  if (at + 8 <= size && plain_json_bytes8(data + at)) {
    at += 8;
    if (size >= 8 && plain_json_bytes8(data + size - 8)) return size - from;
  }
  while (at < size && plain_json_byte(static_cast<unsigned char>(data[at]))) ++at;
  return at - from;
}

// Whether the whole text is plain.
inline bool plain_json_text(std::string_view text) {
  return plain_json_run(text) == text.size();
}

}  // namespace portico::util
