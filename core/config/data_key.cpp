#include "core/config/data_key.hpp"

#include <sodium.h>

#include <cctype>

#include "core/util/strings.hpp"

namespace portico::config {

namespace {

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

constexpr std::size_t kMinSecretTextLength = 32;

// Only hex digits, or base64 with its padding: meant as a raw key, but not 32 bytes long.
bool looks_like_a_mistyped_key(std::string_view text) {
  bool hex = true;
  for (char c : text) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
  return hex || text.ends_with('=');
}

}  // namespace

std::optional<std::string> parse_data_key(std::string_view text) {
  text = trimmed(text);
  unsigned char key[kDataKeyBytes + 3];  // room to see a text that decodes to too much
  std::size_t length = 0;
  const char* end = nullptr;
  bool ok = false;
  if (text.size() == 2 * kDataKeyBytes) {
    ok = sodium_hex2bin(key, sizeof key, text.data(), text.size(), nullptr, &length, &end) == 0 &&
         end == text.data() + text.size() && length == kDataKeyBytes;
  }
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                      sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
    if (ok) break;
    const bool url_safe = variant == sodium_base64_VARIANT_URLSAFE ||
                          variant == sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    if (!util::is_base64_text(text, url_safe)) continue;
    ok = sodium_base642bin(key, sizeof key, text.data(), text.size(), nullptr, &length, &end,
                           variant) == 0 &&
         end == text.data() + text.size() && length == kDataKeyBytes;
  }
  if (!ok && text.size() >= kMinSecretTextLength && !looks_like_a_mistyped_key(text)) {
    static constexpr unsigned char kContext[] = "portico security.data_key text1";  // 32 bytes
    ok = crypto_generichash(key, kDataKeyBytes, reinterpret_cast<const unsigned char*>(text.data()),
                            text.size(), kContext, sizeof kContext) == 0;
  }
  std::optional<std::string> result;
  if (ok) result.emplace(reinterpret_cast<const char*>(key), kDataKeyBytes);
  sodium_memzero(key, sizeof key);
  return result;
}

}  // namespace portico::config
