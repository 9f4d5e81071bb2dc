// Text-keyed hash maps looked up without making a std::string — by std::string_view, or by a
// HashedText whose hash was worked out once, so a caller that picks a shard by the hash does not
// hash the text again for the shard's map:
//   std::unordered_map<std::string, V, sdk::TextHash, sdk::TextEqual> map;
//   const sdk::HashedText key = sdk::hashed_text(id);
//   auto& shard = shards[key.hash % shards.size()];
//   auto it = shard.map.find(key);
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace portico::sdk {

namespace detail {

__extension__ using Uint128 = unsigned __int128;

// The 128-bit product of a and b, its halves xor-ed (wyhash's mixing step).
inline std::uint64_t fold_multiply(std::uint64_t a, std::uint64_t b) noexcept {
  const Uint128 product = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

}  // namespace detail

// A hash of a text for the gateway's in-memory maps, eight bytes at a time with one multiply per
// word (the mixing of wyhash): a 30-byte id costs ~25 instructions against std::hash's ~90.
// Like std::hash it is not keyed, and no map that uses it keeps what a client may fill at will
// without a bound of its own.
inline std::size_t text_hash(std::string_view text) noexcept {
  constexpr std::uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL,
                          k2 = 0x8ebc6af09c88c6e3ULL;
  const char* p = text.data();
  std::size_t n = text.size();
  std::uint64_t h = k2 ^ n;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    h = detail::fold_multiply(word ^ k0, h ^ k1);
  }
  std::uint64_t rest = 0;  // the last 0 to 7 bytes, read as two words that may overlap
  if (n >= 4) {
    std::uint32_t first;
    std::uint32_t last;
    std::memcpy(&first, p, sizeof first);
    std::memcpy(&last, p + n - 4, sizeof last);
    rest = (static_cast<std::uint64_t>(first) << 32) | last;
  } else if (n > 0) {
    rest = (static_cast<std::uint64_t>(static_cast<unsigned char>(p[0])) << 16) |
           (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
           static_cast<unsigned char>(p[n - 1]);
  }
  return static_cast<std::size_t>(detail::fold_multiply(rest ^ k0 ^ n, h ^ k2));
}

// Whether `a` and `b` hold the same bytes. Up to 32 bytes (an id, a route, a method, an address)
// with overlapping word loads in line; std::string's and string_view's == call memcmp, whose
// dispatch is most of the cost at these sizes. TextEqual compares with it.
[[gnu::always_inline]] inline bool same_text(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* const x = a.data();
  const char* const y = b.data();
  const auto word = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  if (n >= 8) {
    if (n <= 16) return ((word(x) ^ word(y)) | (word(x + n - 8) ^ word(y + n - 8))) == 0;
    if (n <= 32) {
      return ((word(x) ^ word(y)) | (word(x + 8) ^ word(y + 8)) |
              (word(x + n - 16) ^ word(y + n - 16)) | (word(x + n - 8) ^ word(y + n - 8))) == 0;
    }
    return std::memcmp(x, y, n) == 0;
  }
  if (n >= 4) {
    std::uint32_t xh, yh, xt, yt;
    std::memcpy(&xh, x, 4);
    std::memcpy(&yh, y, 4);
    std::memcpy(&xt, x + n - 4, 4);
    std::memcpy(&yt, y + n - 4, 4);
    return ((xh ^ yh) | (xt ^ yt)) == 0;
  }
  return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1]);
}

// A text with its text_hash, worked out once.
struct HashedText {
  std::string_view text;
  std::size_t hash;
};

inline HashedText hashed_text(std::string_view text) noexcept {
  return {text, text_hash(text)};
}

// text_hash of the text (a std::string key hashes the same), or the hash a HashedText carries.
struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return text_hash(text); }
  std::size_t operator()(const HashedText& key) const noexcept { return key.hash; }
};

struct TextEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return same_text(a, b); }
  bool operator()(const HashedText& a, std::string_view b) const noexcept {
    return same_text(a.text, b);
  }
  bool operator()(std::string_view a, const HashedText& b) const noexcept {
    return same_text(a, b.text);
  }
};

}  // namespace portico::sdk
