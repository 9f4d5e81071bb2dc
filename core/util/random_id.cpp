#include "core/util/random_id.hpp"

#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "portico/sdk/sodium.hpp"

namespace portico::util {
namespace {

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

// The SDK's per-thread pool the CSPRNG refills (sdk::id_random_byte): not one getrandom() system
// call per id.
unsigned char random_byte() {
  ensure_sodium();
  return sdk::id_random_byte();
}

}  // namespace

std::string random_id(std::string_view prefix, std::size_t chars) {
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out(prefix);
  const std::size_t size = prefix.size() + chars;
  out.reserve(size);
  // Bytes below 252 = 7 × 36 map onto the alphabet without bias, the rest are skipped.
  while (out.size() < size) {
    const unsigned char byte = random_byte();
    if (byte < 252) out.push_back(alphabet[byte % 36]);
  }
  return out;
}

std::string time_ordered_id(std::string_view prefix, std::size_t chars) {
  constexpr std::size_t kTimeChars = 9;  // 36^9 ms ≈ 3,000 years after 1970
  if (chars <= kTimeChars) throw std::invalid_argument("time_ordered_id needs more than 9 chars");
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  std::string out(prefix);
  out.resize(prefix.size() + kTimeChars);
  for (std::size_t i = out.size(); i-- > prefix.size();) {
    out[i] = alphabet[ms % 36];
    ms /= 36;
  }
  return random_id(out, chars - kTimeChars);
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
