// The in-memory index of API keys the auth plugins query on every request: keyed hash → key and
// partner state. Sharded with one shared_mutex per shard, so lookups never wait on a global lock
// and never touch the disk. PartnerService updates it after each change commits.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/partners/key_hasher.hpp"
#include "core/partners/records.hpp"
#include "portico/credentials.hpp"
#include "portico/database.hpp"
#include "portico/sdk/text_key.hpp"

namespace portico::partners {

using Clock = std::function<TimePoint()>;

class KeyDirectory final : public CredentialDirectory {
 public:
  KeyDirectory(
      std::shared_ptr<Database> db, KeyHasher hasher,
      Clock clock = [] { return std::chrono::system_clock::now(); });

  // (Re)builds the index from the database: every partner and every key not revoked.
  void load();
  // Rebuilds it when the database's directory version moved since the last load — a partner or
  // a key changed through another gateway on this database, the CLI, or this process (partners
  // migration 2). One point read otherwise, and not even that while nothing at all was written
  // to the database since the last look (Database::write_generation(), which other writers move
  // too: SQLite within 100 ms, PostgreSQL by notification); true when it reloaded. Run every
  // 250 ms by the gateway, so an idle one neither queries nor allocates.
  bool refresh_if_changed();

  std::optional<ApiKeyRecord> find_api_key(std::string_view presented) const override;
  // The identity kept with the key (built when the key or its partner was put), shared.
  ApiKeyIdentity find_api_key_identity(std::string_view presented) const override;
  // Remembers the time of use in memory; flush_last_used() persists it.
  void record_use(std::string_view key_id) override;
  // Writes every remembered use as last_used_at in one transaction and returns how many keys it
  // wrote. On a database error the uses are kept for the next flush and the error is rethrown.
  std::size_t flush_last_used();

  const KeyHasher& hasher() const { return hasher_; }

  // Index maintenance (PartnerService, after its transaction commits).
  void put_partner(PartnerState partner);
  void put_key(KeyState key);

  std::size_t key_count() const;

 private:
  static constexpr std::size_t kShards = 16;
  // Partner and key ids: looked up by a view or an sdk::HashedText (the hash worked out once for
  // both the shard and the map), without a std::string.
  using Hashed = sdk::HashedText;
  static Hashed hashed(std::string_view text) noexcept { return sdk::hashed_text(text); }
  // A key's keyed digest (hex) is already uniformly spread, and no client can choose it without
  // the secret: its first eight bytes, mixed, are its hash — not a pass over all 64 (a shorter
  // text, which no digest is, is hashed whole).
  struct DigestHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view digest) const noexcept {
      if (digest.size() < sizeof(std::uint64_t)) return sdk::text_hash(digest);
      std::uint64_t x;
      std::memcpy(&x, digest.data(), sizeof x);
      x ^= x >> 31;  // the SplitMix64 finalizer
      x *= 0xbf58476d1ce4e5b9ULL;
      x ^= x >> 27;
      x *= 0x94d049bb133111ebULL;
      return static_cast<std::size_t>(x ^ (x >> 31));
    }
  };
  template <class V>
  using TextMap = std::unordered_map<std::string, V, sdk::TextHash, sdk::TextEqual>;

 public:
  using KeysByHash = std::unordered_map<std::string, KeyState, DigestHash, std::equal_to<>>;

 private:

  struct KeyShard {
    mutable std::shared_mutex mutex;
    KeysByHash by_hash;
  };
  using PartnersById = TextMap<std::shared_ptr<const PartnerState>>;
  struct PartnerShard {
    mutable std::shared_mutex mutex;
    PartnersById by_id;
  };
  // A key's last use; `pending` until a flush has written it. Written entries stay (a key used
  // again finds its entry: no allocation per request) until an interval passes without a use.
  struct LastUse {
    TimePoint at;
    bool pending = true;
  };
  struct UseShard {
    std::mutex mutex;
    TextMap<LastUse> last_used;
  };

  KeyShard& key_shard(std::string_view hash);
  const KeyShard& key_shard(std::string_view hash) const;
  PartnerShard& partner_shard(const Hashed& partner_id);
  const PartnerShard& partner_shard(const Hashed& partner_id) const;
  UseShard& use_shard(const Hashed& key_id);

  std::optional<std::int64_t> directory_version() const;
  ApiKeyIdentity find_unremembered(std::string_view hash) const;  // by the key's digest
  std::shared_ptr<const PartnerState> partner(std::string_view id) const;

  // Moves after every change of the index (load, put_partner, put_key), once it is in place: a
  // thread's memo of its last lookup (find_api_key_identity) stands only while it has not.
  void changed() { changes_.fetch_add(1, std::memory_order_release); }

  std::shared_ptr<Database> db_;
  KeyHasher hasher_;
  const std::uint64_t instance_;  // tells the memo which directory it is of
  std::atomic<std::uint64_t> changes_{0};
  std::atomic<std::int64_t> loaded_version_{-1};  // the directory version the index was built at
  // db_->write_generation() read before the last directory version read that succeeded.
  std::atomic<std::uint64_t> looked_at_generation_{~std::uint64_t{0}};
  Clock clock_;
  std::array<KeyShard, kShards> key_shards_;
  std::array<PartnerShard, kShards> partner_shards_;
  std::array<UseShard, kShards> use_shards_;
};

}  // namespace portico::partners
