// KeyDirectory: sharded lookups by keyed hash, and last_used_at batching.
#include "core/partners/key_directory.hpp"
#include "core/storage/sqlite_database.hpp"

#include <vector>

#include "core/util/instance_id.hpp"
#include "core/util/recycling_allocator.hpp"
#include "core/util/time.hpp"

namespace portico::partners {
namespace {

// What key `key` of `partner` stands for: built when either is put, not per request.
std::shared_ptr<const Identity> identity_of(std::string_view key_id, std::string_view partner_id,
                                            const std::vector<std::string>& scopes,
                                            const PartnerState& partner) {
  auto identity = std::make_shared<Identity>();
  identity->partner_id = partner_id;
  identity->credential_id = key_id;
  identity->scheme = "api_key";
  identity->tier = partner.tier;
  identity->rate_limit_override = partner.rate_limit_override;
  identity->scopes = scopes;
  identity->allowed_cidrs = partner.allowed_cidrs;
  return identity;
}

void attach_identity(KeyState& key, std::shared_ptr<const PartnerState> partner) {
  if (!partner) return;  // not yet known: a lookup builds it then
  key.identity = identity_of(key.id, key.partner_id, key.scopes, *partner);
  key.identity_partner = std::move(partner);
}

}  // namespace

KeyDirectory::KeyDirectory(std::shared_ptr<Database> db, KeyHasher hasher, Clock clock)
    : db_(std::move(db)),
      hasher_(std::move(hasher)),
      instance_(util::next_instance_id()),
      clock_(std::move(clock)) {}

KeyDirectory::KeyShard& KeyDirectory::key_shard(std::string_view hash) {
  return key_shards_[DigestHash{}(hash) % kShards];
}
const KeyDirectory::KeyShard& KeyDirectory::key_shard(std::string_view hash) const {
  return key_shards_[DigestHash{}(hash) % kShards];
}
KeyDirectory::PartnerShard& KeyDirectory::partner_shard(const Hashed& partner_id) {
  return partner_shards_[partner_id.hash % kShards];
}
const KeyDirectory::PartnerShard& KeyDirectory::partner_shard(const Hashed& partner_id) const {
  return partner_shards_[partner_id.hash % kShards];
}
KeyDirectory::UseShard& KeyDirectory::use_shard(const Hashed& key_id) {
  return use_shards_[key_id.hash % kShards];
}

std::optional<std::int64_t> KeyDirectory::directory_version() const {
  const Rows rows = db_->query("SELECT version FROM directory_version WHERE id = 1");
  if (rows.empty()) return std::nullopt;
  return rows.front().integer(0);
}

bool KeyDirectory::refresh_if_changed() {
  // Read before the version: a write landing after this read moves it again for the next look.
  const std::uint64_t generation = db_->write_generation();
  if (generation == looked_at_generation_.load(std::memory_order_acquire)) return false;
  const auto version = directory_version();
  looked_at_generation_.store(generation, std::memory_order_release);
  if (!version || *version == loaded_version_.load()) return false;
  load();
  return true;
}

void KeyDirectory::load() {
  // Read first: a change committed while the rows are read moves it again, and the next refresh
  // reloads.
  const std::uint64_t generation = db_->write_generation();
  if (const auto version = directory_version()) loaded_version_ = *version;
  looked_at_generation_.store(generation, std::memory_order_release);
  std::array<KeysByHash, kShards> keys;
  std::array<PartnersById, kShards> partners;
  for (const auto& row : db_->query(std::string("SELECT ") + kPartnerColumns + " FROM partners")) {
    auto state = partner_state_from_row(row);
    std::string id = state.id;
    partners[hashed(id).hash % kShards][id] =
        std::make_shared<const PartnerState>(std::move(state));
  }
  for (const auto& row : db_->query(std::string("SELECT ") + kKeyColumns +
                                    " FROM api_keys WHERE revoked_at IS NULL")) {
    auto state = key_state_from_row(row);
    const auto& owners = partners[hashed(state.partner_id).hash % kShards];
    if (auto owner = owners.find(state.partner_id); owner != owners.end()) {
      attach_identity(state, owner->second);
    }
    std::string hash = state.hash;
    keys[DigestHash{}(hash) % kShards][hash] = std::move(state);
  }
  for (std::size_t i = 0; i < kShards; ++i) {
    {
      std::unique_lock lock(partner_shards_[i].mutex);
      partner_shards_[i].by_id = std::move(partners[i]);
    }
    std::unique_lock lock(key_shards_[i].mutex);
    key_shards_[i].by_hash = std::move(keys[i]);
  }
  changed();
}

std::optional<ApiKeyRecord> KeyDirectory::find_api_key(std::string_view presented) const {
  KeyHasher::Hex buffer;
  const std::string_view hash = hasher_.hash(presented, buffer);
  ApiKeyRecord record;
  {
    const auto& shard = key_shard(hash);
    std::shared_lock lock(shard.mutex);
    auto it = shard.by_hash.find(hash);
    if (it == shard.by_hash.end()) return std::nullopt;
    const KeyState& key = it->second;
    record.key_id = key.id;
    record.prefix = key.prefix;
    record.partner_id = key.partner_id;
    record.scopes = key.scopes;
    record.expires_at = key.expires_at;
    record.revoked = key.revoked;
  }
  std::shared_ptr<const PartnerState> partner;
  {
    const Hashed id = hashed(record.partner_id);
    const auto& shard = partner_shard(id);
    std::shared_lock lock(shard.mutex);
    auto it = shard.by_id.find(id);
    if (it == shard.by_id.end()) return std::nullopt;
    partner = it->second;
  }
  record.partner_status = partner->status;
  record.tier = partner->tier;
  record.rate_limit_override = partner->rate_limit_override;
  record.allowed_cidrs = partner->allowed_cidrs;
  return record;
}

std::shared_ptr<const PartnerState> KeyDirectory::partner(std::string_view id) const {
  const Hashed key = hashed(id);
  const auto& shard = partner_shard(key);
  std::shared_lock lock(shard.mutex);
  auto it = shard.by_id.find(key);
  return it == shard.by_id.end() ? nullptr : it->second;
}

ApiKeyIdentity KeyDirectory::find_api_key_identity(std::string_view presented) const {
  KeyHasher::Hex buffer;
  const std::string_view hash = hasher_.hash(presented, buffer);
  // A connection sends the same key request after request: each thread remembers its last
  // answer, by digest, for as long as the index has not changed since it was looked up (the
  // count is read before the lookup, so an answer looked up across a change is never taken for
  // one after it). A hit costs a comparison of digests and a reference count of this thread's
  // own (below), not two shard locks and two map lookups.
  struct Memo {
    std::uint64_t directory = 0;
    std::uint64_t changes = 0;
    KeyHasher::Hex digest{};
    std::size_t digest_size = 0;
    ApiKeyIdentity answer;
  };
  thread_local Memo memo;
  const std::uint64_t changes = changes_.load(std::memory_order_acquire);
  if (memo.directory == instance_ && memo.changes == changes && memo.digest_size == hash.size() &&
      std::memcmp(memo.digest.data(), hash.data(), hash.size()) == 0) {
    return memo.answer;
  }
  ApiKeyIdentity out = find_unremembered(hash);
  if (hash.size() <= memo.digest.size()) {
    memo.directory = instance_;
    memo.changes = changes;
    std::memcpy(memo.digest.data(), hash.data(), hash.size());
    memo.digest_size = hash.size();
    memo.answer = out;
    // The copies the memo hands out count on a block of this thread's own, which holds one
    // reference to the identity: the I/O threads serving one partner no longer both write the
    // identity's shared count twice a request (taken here, let go when the connection reads its
    // next request), a cache line that went back and forth between their cores — perf put more
    // than half of RequestReader::finish_request on it. The block's memory is recycled per thread.
    if (memo.answer.identity) {
      const Identity* identity = memo.answer.identity.get();
      auto holder = std::allocate_shared<std::shared_ptr<const Identity>>(
          util::RecyclingAllocator<std::shared_ptr<const Identity>>(),
          std::move(memo.answer.identity));  // the memo's one reference moves into the block
      memo.answer.identity = std::shared_ptr<const Identity>(std::move(holder), identity);
    }
  }
  return out;
}

ApiKeyIdentity KeyDirectory::find_unremembered(std::string_view hash) const {
  ApiKeyIdentity out;
  std::shared_ptr<const Identity> kept;
  std::shared_ptr<const PartnerState> kept_for;
  std::optional<KeyState> unbuilt;  // a key put before its partner was known (rare)
  {
    const auto& shard = key_shard(hash);
    std::shared_lock lock(shard.mutex);
    auto it = shard.by_hash.find(hash);
    if (it == shard.by_hash.end()) return out;
    const KeyState& key = it->second;
    out.revoked = key.revoked;
    out.expires_at = key.expires_at;
    kept = key.identity;
    kept_for = key.identity_partner;
    if (!kept) unbuilt = key;
  }
  const auto current = partner(kept ? std::string_view(kept->partner_id) : unbuilt->partner_id);
  if (!current) return ApiKeyIdentity{};  // as find_api_key: a key without its partner is none
  out.partner_active = current->status == "active";
  if (kept && kept_for == current) {
    out.identity = std::move(kept);
  } else if (kept) {  // the partner changed since: the key's part is in the identity it has
    out.identity = identity_of(kept->credential_id, kept->partner_id, kept->scopes, *current);
  } else {
    out.identity = identity_of(unbuilt->id, unbuilt->partner_id, unbuilt->scopes, *current);
  }
  return out;
}

void KeyDirectory::record_use(std::string_view key_id) {
  TimePoint now = clock_();
  // last_used_at is kept to the second: a thread's use of the key it recorded last, in the same
  // second, cannot change it and is not recorded again — so the shared entry, its shard's lock
  // and their cache lines, which every I/O thread would write, are touched once a second per
  // thread and key, not per request. (A flush in between wrote that second already.)
  struct Memo {
    std::uint64_t directory = 0;
    std::string key_id;
    TimePoint second;
  };
  thread_local Memo memo;
  const TimePoint second = std::chrono::floor<std::chrono::seconds>(now);
  if (memo.directory == instance_ && memo.second == second && memo.key_id == key_id) return;
  const Hashed key = hashed(key_id);
  auto& shard = use_shard(key);
  {
    std::lock_guard lock(shard.mutex);
    // A key already waiting for the flush (the common case) is found without a std::string.
    if (auto it = shard.last_used.find(key); it != shard.last_used.end()) {
      if (it->second.at < now) it->second.at = now;
      it->second.pending = true;
    } else {
      shard.last_used.emplace(std::string(key_id), LastUse{now});
    }
  }
  memo.directory = instance_;
  memo.key_id.assign(key_id);
  memo.second = second;
}

std::size_t KeyDirectory::flush_last_used() {
  std::unordered_map<std::string, TimePoint> pending;
  for (auto& shard : use_shards_) {
    std::lock_guard lock(shard.mutex);
    for (auto it = shard.last_used.begin(); it != shard.last_used.end();) {
      if (!it->second.pending) {  // not used since the last flush
        it = shard.last_used.erase(it);
        continue;
      }
      pending[it->first] = it->second.at;
      it->second.pending = false;
      ++it;
    }
  }
  if (pending.empty()) return 0;
  try {
    // Bookkeeping no plugin reads: plugins' caches stay confirmed across it.
    storage::bookkeeping_transaction(*db_, [&](Session& tx) {
      for (const auto& [id, at] : pending) {
        std::string stamp = util::format_rfc3339(at);
        tx.execute(
            "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR "
            "last_used_at < ?)",
            {stamp, id, stamp});
      }
    });
  } catch (...) {
    // Put the uses back (keeping any later one recorded meanwhile) so the next flush retries.
    for (const auto& [id, at] : pending) {
      auto& shard = use_shard(hashed(id));
      std::lock_guard lock(shard.mutex);
      auto [it, inserted] = shard.last_used.try_emplace(id, LastUse{at});
      if (!inserted && it->second.at < at) it->second.at = at;
      it->second.pending = true;
    }
    throw;
  }
  return pending.size();
}

void KeyDirectory::put_partner(PartnerState partner) {
  auto& shard = partner_shard(hashed(partner.id));
  auto state = std::make_shared<const PartnerState>(std::move(partner));
  {
    std::unique_lock lock(shard.mutex);
    shard.by_id[state->id] = state;
  }
  // The partner's keys stand for a new identity now (tier, override, allow-list). A lookup
  // meanwhile sees the old one built from another state and builds a fresh one itself.
  for (auto& keys : key_shards_) {
    std::unique_lock lock(keys.mutex);
    for (auto& [hash, key] : keys.by_hash) {
      if (key.partner_id == state->id) attach_identity(key, state);
    }
  }
  changed();
}

void KeyDirectory::put_key(KeyState key) {
  attach_identity(key, partner(key.partner_id));
  auto& shard = key_shard(key.hash);
  std::unique_lock lock(shard.mutex);
  std::string hash = key.hash;
  shard.by_hash[hash] = std::move(key);
  lock.unlock();
  changed();
}

std::size_t KeyDirectory::key_count() const {
  std::size_t count = 0;
  for (const auto& shard : key_shards_) {
    std::shared_lock lock(shard.mutex);
    count += shard.by_hash.size();
  }
  return count;
}

}  // namespace portico::partners
