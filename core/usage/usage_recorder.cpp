#include "core/usage/usage_recorder.hpp"
#include "core/storage/sqlite_database.hpp"

#include <cstdio>
#include <map>
#include <utility>

#include "core/util/instance_id.hpp"
#include "portico/sdk/text_key.hpp"

namespace portico::usage {
namespace {

// Portable SQL (PostgreSQL accepts it too): existing columns are qualified by the table name.
constexpr std::string_view kUpsert =
    "INSERT INTO usage_daily(partner_id, day, route, requests, errors_4xx, errors_5xx,"
    " rate_limited) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(partner_id, day, route) DO UPDATE SET"
    " requests = usage_daily.requests + excluded.requests,"
    " errors_4xx = usage_daily.errors_4xx + excluded.errors_4xx,"
    " errors_5xx = usage_daily.errors_5xx + excluded.errors_5xx,"
    " rate_limited = usage_daily.rate_limited + excluded.rate_limited";

constexpr std::string_view kSelect =
    "SELECT day, route, requests, errors_4xx, errors_5xx, rate_limited FROM usage_daily"
    " WHERE partner_id = ? AND day >= ? AND day <= ?";

UsageCounts counts_of(int status, bool rate_limited) {
  UsageCounts c;
  c.requests = 1;
  if (status >= 400 && status < 500) c.errors_4xx = 1;
  if (status >= 500 && status < 600) c.errors_5xx = 1;
  if (rate_limited) c.rate_limited = 1;
  return c;
}

}  // namespace

UsageCounts& UsageCounts::operator+=(const UsageCounts& other) {
  requests += other.requests;
  errors_4xx += other.errors_4xx;
  errors_5xx += other.errors_5xx;
  rate_limited += other.rate_limited;
  return *this;
}

std::vector<Migration> usage_migrations() {
  return {
      {1, "usage per partner, day and route",
       R"sql(
CREATE TABLE usage_daily(
  partner_id TEXT NOT NULL,
  day TEXT NOT NULL,    -- UTC date, YYYY-MM-DD (sorts as text)
  route TEXT NOT NULL,  -- matched pattern, e.g. "GET /v1/products/{id}"
  requests INTEGER NOT NULL DEFAULT 0,
  errors_4xx INTEGER NOT NULL DEFAULT 0,
  errors_5xx INTEGER NOT NULL DEFAULT 0,
  rate_limited INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (partner_id, day, route)
);
)sql"},
  };
}

std::string utc_day(std::chrono::system_clock::time_point t) {
  std::chrono::year_month_day date{std::chrono::floor<std::chrono::days>(t)};
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

std::size_t UsageRecorder::KeyHash::operator()(const KeyView& key) const {
  if (key.hash) return *key.hash;
  std::size_t seed = sdk::text_hash(key.partner_id);
  seed ^= sdk::text_hash(key.day) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  seed ^= sdk::text_hash(key.route) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  return seed;
}

UsageRecorder::UsageRecorder(std::shared_ptr<Database> db, Clock clock)
    : db_(std::move(db)), clock_(std::move(clock)), instance_(util::next_instance_id()) {
  if (!clock_) clock_ = std::chrono::system_clock::now;
}

UsageRecorder::Added UsageRecorder::add(const KeyView& key, const UsageCounts& counts) {
  const std::size_t hash = KeyHash{}(key);
  // The map is handed the same hash (worked out once); a different mix picks the shard so
  // buckets stay spread.
  Shard& shard = shards_[(hash >> 17) % kShards];
  const KeyView hashed{key.partner_id, key.day, key.route, hash};
  std::lock_guard lock(shard.mutex);
  auto it = shard.counts.find(hashed);
  if (it == shard.counts.end()) {
    it =
        shard.counts
            .emplace(Key{std::string(key.partner_id), std::string(key.day), std::string(key.route)},
                     UsageCounts{})
            .first;
  }
  it->second += counts;
  return {&shard, &it->second, shard.erasures};
}

void UsageRecorder::record(const std::string& partner_id, std::string_view route, int status,
                           bool rate_limited) {
  // Every request needs the day's text: formatted once per day and thread, not per request.
  struct DayText {
    std::chrono::sys_days day{};
    std::string text;
  };
  thread_local DayText cached;
  const auto day = std::chrono::floor<std::chrono::days>(clock_());
  if (cached.text.empty() || cached.day != day) cached = {day, utc_day(day)};
  const UsageCounts counts = counts_of(status, rate_limited);
  // A thread's requests mostly come with the same partner and route: the entry it added to
  // last is remembered, and found again without hashing the key or looking it up, for as long
  // as its shard has erased nothing (flush() drops entries counted nothing for an interval).
  struct Memo {
    std::uint64_t recorder = 0;
    std::string partner_id, day, route;
    Shard* shard = nullptr;
    std::uint64_t erasures = 0;
    UsageCounts* entry = nullptr;
  };
  thread_local Memo memo;
  if (memo.recorder == instance_ && sdk::same_text(memo.partner_id, partner_id) &&
      sdk::same_text(memo.route, route) && sdk::same_text(memo.day, cached.text)) {
    std::lock_guard lock(memo.shard->mutex);
    if (memo.shard->erasures == memo.erasures) {
      *memo.entry += counts;
      return;
    }
  }
  const Added added = add(KeyView{partner_id, cached.text, route, {}}, counts);
  memo.recorder = instance_;
  memo.partner_id.assign(partner_id);
  memo.day.assign(cached.text);
  memo.route.assign(route);
  memo.shard = added.shard;
  memo.erasures = added.erasures;
  memo.entry = added.entry;
}

std::size_t UsageRecorder::flush() {
  std::unique_lock flushing(flush_mutex_);
  // The counts are copied out and zeroed in place: a key counted again before the next flush
  // finds its entry (record() allocates nothing for it). A key with nothing counted since the
  // last flush is dropped, so the maps hold the keys of the last two intervals at most.
  std::vector<std::pair<Key, UsageCounts>> taken;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (auto it = shard.counts.begin(); it != shard.counts.end();) {
      if (it->second == UsageCounts{}) {
        ++shard.erasures;
        it = shard.counts.erase(it);
        continue;
      }
      taken.emplace_back(it->first, std::exchange(it->second, UsageCounts{}));
      ++it;
    }
  }
  if (taken.empty()) return 0;
  try {
    // Bookkeeping no plugin reads: plugins' caches stay confirmed across it.
    storage::bookkeeping_transaction(*db_, [&](Session& tx) {
      for (const auto& [key, c] : taken) {
        tx.execute(kUpsert, {key.partner_id, key.day, key.route, c.requests, c.errors_4xx,
                             c.errors_5xx, c.rate_limited});
      }
    });
  } catch (...) {
    // Nothing was committed: put the counts back, on top of what arrived meanwhile.
    for (const auto& [key, c] : taken) add(view(key), c);
    throw;
  }
  return taken.size();
}

std::vector<UsageRow> UsageRecorder::query(const std::string& partner_id, std::string_view from_day,
                                           std::string_view to_day) const {
  std::shared_lock reading(flush_mutex_);
  std::map<std::pair<std::string, std::string>, UsageCounts> merged;
  for (const auto& row :
       db_->query(kSelect, {partner_id, std::string(from_day), std::string(to_day)})) {
    UsageCounts c;
    c.requests = row.integer(2);
    c.errors_4xx = row.integer(3);
    c.errors_5xx = row.integer(4);
    c.rate_limited = row.integer(5);
    merged[{row.text(0), row.text(1)}] += c;
  }
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (const auto& [key, c] : shard.counts) {
      if (key.partner_id != partner_id || key.day < from_day || key.day > to_day) continue;
      if (c == UsageCounts{}) continue;  // flushed already: the stored row has it
      merged[{key.day, key.route}] += c;
    }
  }
  std::vector<UsageRow> out;
  out.reserve(merged.size());
  for (auto& [where, c] : merged) out.push_back({where.first, where.second, c});
  return out;
}

}  // namespace portico::usage
