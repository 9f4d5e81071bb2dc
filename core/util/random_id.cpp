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
  out.reserve(prefix.size() + chars);
  for (std::size_t i = 0; i < chars; ++i) out.push_back(alphabet[randombytes_uniform(36)]);
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
