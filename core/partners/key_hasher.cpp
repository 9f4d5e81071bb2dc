// Keyed BLAKE2b (crypto_generichash) over API keys, and the server secret behind it.
#include "core/partners/key_hasher.hpp"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

namespace portico::partners {
namespace {

constexpr const char* kSecretName = "api_key_hash_secret";

void ensure_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.pop_back();
  return hex;
}

void check_secret_length(std::string_view secret) {
  if (secret.size() < kMinKeySecretChars) {
    throw KeySecretError("security.key_secret must be at least " +
                         std::to_string(kMinKeySecretChars) + " characters (got " +
                         std::to_string(secret.size()) +
                         "); generate one with `openssl rand -hex 32`");
  }
}

std::atomic<std::uint64_t> next_hasher_id{1};

// Whether two texts of `size` bytes are equal, in a time that depends only on `size`: every byte
// is read, whichever differ. Eight bytes at a time (sodium_memcmp reads one at a time through a
// volatile pointer: ~340 instructions for a 36-byte key, 2 % of a request); the empty asm keeps
// the compiler from turning the accumulation into a loop that stops at the first difference.
bool same_text(const char* a, const char* b, std::size_t size) {
  std::uint64_t diff = 0;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a + i, sizeof x);
    std::memcpy(&y, b + i, sizeof y);
    diff |= x ^ y;
    __asm__("" : "+r"(diff));
  }
  for (; i < size; ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    __asm__("" : "+r"(diff));
  }
  return diff == 0;
}

// The digests of the keys this thread hashed last, so a partner's every request does not pay for
// BLAKE2b (~1,900 instructions, 6 % of a product read's CPU): each client sends the same key
// request after request. A slot holds a presented key, the hasher it was hashed with and the hex
// digest; the slot is picked from the key's last bytes (the random part). The key is compared in
// constant time, so a guess that lands on another partner's slot learns nothing from the time it
// takes; what a hit or a miss tells is only whether this very key was presented here lately.
// Keys are held in the clear only here, in this thread's memory, which is zeroed when the thread
// ends. Keys longer than a slot (and the empty one) are hashed every time.
struct DigestMemo {
  static constexpr std::size_t kSlots = 64;
  static constexpr std::size_t kMaxKey = 96;
  struct Slot {
    std::uint64_t hasher = 0;  // 0: empty
    std::size_t size = 0;
    std::array<char, kMaxKey> key{};
    KeyHasher::Hex hex{};
  };
  std::array<Slot, kSlots> slots{};

  DigestMemo() = default;
  DigestMemo(const DigestMemo&) = delete;
  DigestMemo& operator=(const DigestMemo&) = delete;
  ~DigestMemo() { sodium_memzero(slots.data(), sizeof slots); }

  Slot& slot_for(std::string_view presented) {  // not empty
    std::uint64_t tail = 0;
    const std::size_t n = std::min(presented.size(), sizeof tail);
    std::memcpy(&tail, presented.data() + presented.size() - n, n);
    return slots[((tail ^ presented.size()) * 0x9E3779B97F4A7C15ull) >> 58];  // 64 slots
  }
};
static_assert(DigestMemo::kSlots == 64, "slot_for keeps the top 6 bits");

thread_local DigestMemo memo;

}  // namespace

KeyHasher::KeyHasher(std::string_view secret) : id_(next_hasher_id.fetch_add(1)) {
  check_secret_length(secret);
  ensure_sodium();
  crypto_generichash(key_.data(), key_.size(),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), nullptr,
                     0);
}

KeyHasher::~KeyHasher() {
  sodium_memzero(key_.data(), key_.size());
}

std::string KeyHasher::hash(std::string_view presented) const {
  Hex out;
  return std::string(hash(presented, out));
}

std::string_view KeyHasher::hash(std::string_view presented, Hex& out) const {
  static_assert(crypto_generichash_BYTES * 2 == std::tuple_size_v<Hex>);
  const bool memoizable = !presented.empty() && presented.size() <= DigestMemo::kMaxKey;
  DigestMemo::Slot* slot = memoizable ? &memo.slot_for(presented) : nullptr;
  if (slot && slot->hasher == id_ && slot->size == presented.size() &&
      same_text(slot->key.data(), presented.data(), presented.size())) {
    out = slot->hex;
    return {out.data(), out.size()};
  }
  std::array<unsigned char, crypto_generichash_BYTES> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(presented.data()), presented.size(),
                     key_.data(), key_.size());
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  sodium_memzero(digest.data(), digest.size());
  if (slot) {
    slot->hasher = id_;
    slot->size = presented.size();
    sodium_memzero(slot->key.data(), slot->key.size());  // nothing left of the key it held
    std::memcpy(slot->key.data(), presented.data(), presented.size());
    slot->hex = out;
  }
  return {out.data(), out.size()};
}

std::string resolve_key_secret(Database& db, const std::string& configured) {
  if (!configured.empty()) {
    check_secret_length(configured);
    return configured;
  }
  std::string secret;
  db.transaction([&](Session& tx) {
    auto rows =
        tx.query("SELECT value FROM core_secrets WHERE name = ?", {std::string(kSecretName)});
    if (!rows.empty()) {
      secret = rows.front().text(0);
      return;
    }
    ensure_sodium();
    std::array<unsigned char, 32> raw{};
    randombytes_buf(raw.data(), raw.size());
    secret = to_hex(raw.data(), raw.size());
    sodium_memzero(raw.data(), raw.size());
    tx.execute("INSERT INTO core_secrets(name, value) VALUES (?, ?)",
               {std::string(kSecretName), secret});
  });
  return secret;
}

}  // namespace portico::partners
