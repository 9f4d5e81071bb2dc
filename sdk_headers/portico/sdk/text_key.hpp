// Text-keyed hash maps looked up without making a std::string — by std::string_view, or by a
// HashedText whose hash was worked out once, so a caller that picks a shard by the hash does not
// hash the text again for the shard's map:
//   std::unordered_map<std::string, V, sdk::TextHash, sdk::TextEqual> map;
//   const sdk::HashedText key = sdk::hashed_text(id);
//   auto& shard = shards[key.hash % shards.size()];
//   auto it = shard.map.find(key);
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace portico::sdk {

// A text with its std::hash, worked out once.
struct HashedText {
  std::string_view text;
  std::size_t hash;
};

inline HashedText hashed_text(std::string_view text) noexcept {
  return {text, std::hash<std::string_view>{}(text)};
}

// std::hash of the text (a std::string key hashes the same), or the hash a HashedText carries.
struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
  std::size_t operator()(const HashedText& key) const noexcept { return key.hash; }
};

struct TextEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
  bool operator()(const HashedText& a, std::string_view b) const noexcept { return a.text == b; }
  bool operator()(std::string_view a, const HashedText& b) const noexcept { return a == b.text; }
};

}  // namespace portico::sdk
