// Usage per partner, UTC day and route: requests, 4xx, 5xx, rate-limited. Counted in memory on the
// request thread (sharded maps, no global lock), written to the store in batches by flush(), and
// read back merged with what is not flushed yet, so counts survive a restart.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/pipeline/usage_sink.hpp"
#include "portico/database.hpp"

namespace portico::usage {

struct UsageCounts {
  std::int64_t requests = 0;
  std::int64_t errors_4xx = 0;  // 429s included
  std::int64_t errors_5xx = 0;
  std::int64_t rate_limited = 0;  // refused by the tier rate limit (also in requests, errors_4xx)

  UsageCounts& operator+=(const UsageCounts& other);
  bool operator==(const UsageCounts&) const = default;
};

struct UsageRow {
  std::string day;    // UTC date, "2026-11-26"
  std::string route;  // matched pattern, "GET /v1/products/{id}"
  UsageCounts counts;
};

// The tables of migration owner "usage": usage_daily.
inline constexpr const char* kUsageMigrationOwner = "usage";
std::vector<Migration> usage_migrations();

// "YYYY-MM-DD" of a time point in UTC.
std::string utc_day(std::chrono::system_clock::time_point t);

class UsageRecorder final : public pipeline::UsageSink {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `db` must have the usage migrations applied.
  explicit UsageRecorder(std::shared_ptr<Database> db,
                         Clock clock = std::chrono::system_clock::now);

  // Counts one response, on today's (UTC) row. No I/O.
  void record(const std::string& partner_id, std::string_view route, int status,
              bool rate_limited) override;

  // Adds everything counted since the last flush to the store in one transaction and returns the
  // number of rows written. When the store fails, the counts are kept for the next flush and the
  // exception is rethrown. Safe to call from any thread, concurrently with record() and query().
  std::size_t flush();

  // Stored plus unflushed counts of one partner, days from..to inclusive ("YYYY-MM-DD"), ordered
  // by day then route.
  std::vector<UsageRow> query(const std::string& partner_id, std::string_view from_day,
                              std::string_view to_day) const;

  std::chrono::system_clock::time_point now() const { return clock_(); }

 private:
  struct Key {
    std::string partner_id, day, route;
  };
  struct KeyView {
    std::string_view partner_id, day, route;
    std::optional<std::size_t> hash;  // KeyHash's, when already worked out (add())
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const KeyView& key) const;
    std::size_t operator()(const Key& key) const { return (*this)(view(key)); }
  };
  struct KeyEqual {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      KeyView x = view(a), y = view(b);
      return x.partner_id == y.partner_id && x.day == y.day && x.route == y.route;
    }
  };
  using CountMap = std::unordered_map<Key, UsageCounts, KeyHash, KeyEqual>;
  struct Shard {
    mutable std::mutex mutex;
    CountMap counts;
    std::uint64_t erasures = 0;  // moved (under the mutex) by every erase: see record()
  };
  static constexpr std::size_t kShards = 16;

  static KeyView view(const Key& key) { return {key.partner_id, key.day, key.route, {}}; }
  static KeyView view(const KeyView& key) { return key; }
  // Where add() counted: the entry stays valid while its shard's erasures have not moved from
  // the count read with it.
  struct Added {
    Shard* shard;
    UsageCounts* entry;
    std::uint64_t erasures;
  };
  Added add(const KeyView& key, const UsageCounts& counts);

  std::shared_ptr<Database> db_;
  Clock clock_;
  const std::uint64_t instance_;  // tells record()'s memo which recorder it is of
  std::array<Shard, kShards> shards_;
  // flush() holds it exclusively from taking the counts out of the shards until they are
  // committed; query() holds it shared, so it never sees a count twice or not at all.
  // record() never touches it.
  mutable std::shared_mutex flush_mutex_;
};

}  // namespace portico::usage
