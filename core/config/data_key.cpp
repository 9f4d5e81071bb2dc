#include "core/config/data_key.hpp"

#include <sodium.h>

namespace portico::config {

namespace {

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
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
    ok = sodium_base642bin(key, sizeof key, text.data(), text.size(), nullptr, &length, &end,
                           variant) == 0 &&
         end == text.data() + text.size() && length == kDataKeyBytes;
  }
  std::optional<std::string> result;
  if (ok) result.emplace(reinterpret_cast<const char*>(key), kDataKeyBytes);
  sodium_memzero(key, sizeof key);
  return result;
}

}  // namespace portico::config
