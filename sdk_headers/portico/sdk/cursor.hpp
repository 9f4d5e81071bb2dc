// Opaque, tamper-evident page cursors for keyset pagination. A cursor carries the position where
// the page ended (the last item's sort key, e.g. its immutable id) and the filters it was issued
// for, signed with a MAC under a secret only the gateway knows:
//
//   base64url( "c1" 0x1f fnv64(filters) 0x1f position || MAC(that text)[0..16) )
//
// The MAC itself is injected (plugins use HMAC-SHA256, sdk/sodium.hpp), so this file is pure logic
// that unit tests drive with any keyed function.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace portico::sdk {

// Raw MAC bytes of `message` (at least kCursorTagBytes of them).
using MacFunction = std::function<std::string(std::string_view message)>;

inline constexpr std::size_t kCursorTagBytes = 16;

namespace detail {

inline constexpr char kBase64Url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

inline std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kBase64Url[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kBase64Url[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

// Unpadded base64url only; nullopt on any other character or an impossible length/tail.
inline std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    if (c >= '0' && c <= '9') value = c - '0' + 52;
    if (c == '-') value = 62;
    if (c == '_') value = 63;
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero, so every cursor has exactly one spelling.
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

inline std::string fnv64_hex(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) out[static_cast<std::size_t>(i)] = digits[hash & 15];
  return out;
}

// Compares without an early exit, so the time taken says nothing about where tags differ.
inline bool same_bytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

}  // namespace detail

// Appends one filter to the text a cursor is bound to (the `filter_key` of CursorCodec): "-" for
// a filter not given, "=" and the value for one given, then 0x1f. Inside a value, 0x1f and 0x1b
// are each preceded by 0x1b, so two different sets of filters never write the same text (a value
// holding 0x1f could otherwise pass for the next filter). A value with neither character is
// written as it is, as before the escape existed: cursors handed out earlier stay valid.
inline void append_filter(std::string& key, const std::optional<std::string>& value) {
  if (!value) {
    key.append("-\x1f");
    return;
  }
  key.push_back('=');
  for (char c : *value) {
    if (c == '\x1f' || c == '\x1b') key.push_back('\x1b');
    key.push_back(c);
  }
  key.push_back('\x1f');
}

enum class CursorError {
  malformed,      // not a cursor this gateway issued (garbage, truncated, tampered, other key)
  other_filters,  // genuine, but issued for other filters
};

class CursorCodec {
 public:
  explicit CursorCodec(MacFunction mac) : mac_(std::move(mac)) {}

  std::string encode(std::string_view position, std::string_view filter_key) const {
    std::string message = payload(position, filter_key);
    std::string tag = mac_(message).substr(0, kCursorTagBytes);
    return detail::base64url_encode(message + tag);
  }

  // The position where the previous page ended, or why the cursor is refused.
  std::variant<std::string, CursorError> decode(std::string_view cursor,
                                                std::string_view filter_key) const {
    if (cursor.size() > 512) return CursorError::malformed;
    auto bytes = detail::base64url_decode(cursor);
    if (!bytes || bytes->size() <= kCursorTagBytes) return CursorError::malformed;
    std::string_view all(*bytes);
    std::string_view message = all.substr(0, all.size() - kCursorTagBytes);
    std::string_view tag = all.substr(all.size() - kCursorTagBytes);
    std::string expected = mac_(message).substr(0, kCursorTagBytes);
    if (!detail::same_bytes(tag, expected)) return CursorError::malformed;
    // Signed by us, so well-formed: "c1" 0x1f <16 hex> 0x1f <id>.
    if (message.size() < 20 || message.substr(0, 3) != std::string_view("c1\x1f", 3) ||
        message[19] != '\x1f') {
      return CursorError::malformed;
    }
    if (message.substr(3, 16) != detail::fnv64_hex(filter_key)) return CursorError::other_filters;
    return std::string(message.substr(20));
  }

 private:
  static std::string payload(std::string_view position, std::string_view filter_key) {
    std::string out = "c1\x1f";
    out += detail::fnv64_hex(filter_key);
    out.push_back('\x1f');
    out += position;
    return out;
  }

  MacFunction mac_;
};

}  // namespace portico::sdk
