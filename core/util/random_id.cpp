#include "core/util/random_id.hpp"

#include <sodium.h>

#include <stdexcept>
#include <vector>

namespace portico::util {
namespace {

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

}  // namespace

std::string random_id(std::string_view prefix, std::size_t chars) {
  ensure_sodium();
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out(prefix);
  const std::size_t size = prefix.size() + chars;
  out.reserve(size);
  // One draw of random bytes, not one system call per character: bytes below 252 = 7 × 36 map
  // onto the alphabet without bias, the rest are skipped.
  std::vector<unsigned char> raw(chars + 8);
  while (out.size() < size) {
    randombytes_buf(raw.data(), raw.size());
    for (unsigned char byte : raw) {
      if (byte < 252) out.push_back(alphabet[byte % 36]);
      if (out.size() == size) break;
    }
  }
  return out;
}

std::string random_token(std::size_t bytes) {
  ensure_sodium();
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

}  // namespace portico::util
