#include "core/observability/request_metrics.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>

#include "core/util/instance_id.hpp"
#include "portico/sdk/text_key.hpp"

namespace portico::observability {
namespace {

// Cells are written only by their shard's thread, so a plain load and store replace the locked
// read-modify-write of fetch_add; the scraper's relaxed loads see whole values.
void bump(std::atomic<std::uint64_t>& cell, std::uint64_t by = 1) {
  cell.store(cell.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

struct RequestCell {
  std::string route, method, tier;
  int status = 0;
  std::array<std::atomic<std::uint64_t>, kDurationBucketsNs.size() + 1> buckets{};
  std::atomic<std::uint64_t> sum_ns{0};
  std::unique_ptr<RequestCell> next;  // set before the cell is published, never changed after
};

struct PartnerCell {
  std::string partner;
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> quota{0};  // used << 32 | limit: one store, so never torn
  std::atomic<std::int64_t> reset_at_ms{0};
  std::atomic<std::uint64_t> seen_sequence{0};  // 0 = no quota seen yet
  std::unique_ptr<PartnerCell> next;
};

std::size_t bucket_index(std::chrono::nanoseconds duration) {
  auto ns = duration.count();
  std::size_t i = 0;
  while (i < kDurationBucketsNs.size() && ns > kDurationBucketsNs[i]) ++i;
  return i;
}

// Unlinks a list iteratively: a recursive unique_ptr chain could overflow the stack.
template <typename Cell>
void free_list(std::unique_ptr<Cell>& head) {
  while (head) head = std::move(head->next);
}

}  // namespace

struct RequestMetrics::Shard {
  std::atomic<RequestCell*> requests_head{nullptr};
  std::atomic<PartnerCell*> partners_head{nullptr};
  // Owner thread only.
  std::unique_ptr<RequestCell> owned_requests;
  std::unique_ptr<PartnerCell> owned_partners;
  std::unordered_map<std::string, RequestCell*, sdk::TextHash, sdk::TextEqual> request_index;
  std::unordered_map<std::string, PartnerCell*, sdk::TextHash, sdk::TextEqual> partner_index;
  std::string key;  // reused to build lookup keys without allocating
  // The cells this thread bumped last: a connection's requests come with the same labels and
  // partner, so the next one is usually the same cell, found without a key or a lookup.
  RequestCell* last_request = nullptr;
  PartnerCell* last_partner = nullptr;

  ~Shard() {
    free_list(owned_requests);
    free_list(owned_partners);
  }
};

namespace {

struct LocalShard {
  std::uint64_t registry_id;
  RequestMetrics::Shard* shard;
};
// This thread's shard of each registry it has recorded into, newest first.
thread_local std::vector<LocalShard> t_shards;

}  // namespace

RequestMetrics::RequestMetrics(Clock clock)
    : clock_(std::move(clock)), id_(util::next_instance_id()) {
  if (!clock_) clock_ = std::chrono::steady_clock::now;
}

RequestMetrics::~RequestMetrics() = default;

RequestMetrics::Shard& RequestMetrics::local_shard() {
  for (const auto& local : t_shards) {
    if (local.registry_id == id_) return *local.shard;
  }
  auto shard = std::make_unique<Shard>();
  Shard& mine = *shard;
  {
    std::lock_guard lock(shards_mutex_);
    shards_.push_back(std::move(shard));
  }
  t_shards.insert(t_shards.begin(), LocalShard{id_, &mine});
  return mine;
}

void RequestMetrics::record(const RequestLabels& labels, std::chrono::nanoseconds duration) {
  Shard& shard = local_shard();
  RequestCell* cell = shard.last_request;
  if (!cell || cell->status != labels.status || !sdk::same_text(cell->route, labels.route) ||
      !sdk::same_text(cell->method, labels.method) || !sdk::same_text(cell->tier, labels.tier)) {
    std::string& key = shard.key;
    key.assign(labels.route).push_back('\0');
    key.append(labels.method).push_back('\0');
    key.append(labels.tier).push_back('\0');
    char status[16];
    key.append(status, std::to_chars(status, status + sizeof status, labels.status).ptr);
    if (auto it = shard.request_index.find(std::string_view(key));
        it != shard.request_index.end()) {
      cell = it->second;
    } else {
      auto fresh = std::make_unique<RequestCell>();
      fresh->route = labels.route;
      fresh->method = labels.method;
      fresh->tier = labels.tier;
      fresh->status = labels.status;
      fresh->next = std::move(shard.owned_requests);
      cell = fresh.get();
      shard.owned_requests = std::move(fresh);
      shard.request_index.emplace(key, cell);
      shard.requests_head.store(cell, std::memory_order_release);
    }
    shard.last_request = cell;
  }
  bump(cell->buckets[bucket_index(duration)]);
  bump(cell->sum_ns, static_cast<std::uint64_t>(std::max<std::int64_t>(duration.count(), 0)));
}

void RequestMetrics::record_partner(std::string_view partner_id,
                                    const std::optional<QuotaSample>& quota) {
  Shard& shard = local_shard();
  PartnerCell* cell = shard.last_partner;
  if (cell && sdk::same_text(cell->partner, partner_id)) {
    // the same partner as this thread's last request
  } else if (auto it = shard.partner_index.find(partner_id); it != shard.partner_index.end()) {
    cell = it->second;
  } else {
    auto fresh = std::make_unique<PartnerCell>();
    fresh->partner = partner_id;
    fresh->next = std::move(shard.owned_partners);
    cell = fresh.get();
    shard.owned_partners = std::move(fresh);
    shard.partner_index.emplace(std::string(partner_id), cell);
    shard.partners_head.store(cell, std::memory_order_release);
  }
  shard.last_partner = cell;
  bump(cell->requests);
  if (!quota || quota->limit <= 0) return;
  constexpr std::int64_t kMax = std::numeric_limits<std::uint32_t>::max();
  auto limit = static_cast<std::uint64_t>(std::min(quota->limit, kMax));
  auto used = static_cast<std::uint64_t>(
      std::clamp<std::int64_t>(quota->limit - quota->remaining, 0, quota->limit));
  std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
  cell->quota.store((std::min<std::uint64_t>(used, limit) << 32) | limit,
                    std::memory_order_relaxed);
  cell->reset_at_ms.store(now_ms + std::max<std::int64_t>(quota->reset_seconds, 0) * 1000,
                          std::memory_order_relaxed);
  cell->seen_sequence.store(response_sequence_.fetch_add(1, std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
}

std::vector<RequestMetrics::RequestSeries> RequestMetrics::requests() const {
  std::map<std::tuple<std::string, std::string, int, std::string>, std::uint64_t> merged;
  {
    std::lock_guard lock(shards_mutex_);
    for (const auto& shard : shards_) {
      for (const RequestCell* cell = shard->requests_head.load(std::memory_order_acquire); cell;
           cell = cell->next.get()) {
        std::uint64_t count = 0;
        for (const auto& bucket : cell->buckets) count += bucket.load(std::memory_order_relaxed);
        merged[{cell->route, cell->method, cell->status, cell->tier}] += count;
      }
    }
  }
  std::vector<RequestSeries> out;
  out.reserve(merged.size());
  for (auto& [labels, count] : merged) {
    auto& [route, method, status, tier] = labels;
    out.push_back({route, method, tier, status, count});
  }
  return out;
}

std::vector<RequestMetrics::DurationSeries> RequestMetrics::durations() const {
  // Sums stay integer nanoseconds until the end, so the text shows no rounding noise.
  std::map<std::pair<std::string, std::string>, std::pair<DurationSeries, std::uint64_t>> merged;
  {
    std::lock_guard lock(shards_mutex_);
    for (const auto& shard : shards_) {
      for (const RequestCell* cell = shard->requests_head.load(std::memory_order_acquire); cell;
           cell = cell->next.get()) {
        auto& [series, sum_ns] = merged[{cell->route, cell->method}];
        for (std::size_t i = 0; i < cell->buckets.size(); ++i) {
          std::uint64_t n = cell->buckets[i].load(std::memory_order_relaxed);
          series.buckets[i] += n;
          series.count += n;
        }
        sum_ns += cell->sum_ns.load(std::memory_order_relaxed);
      }
    }
  }
  std::vector<DurationSeries> out;
  out.reserve(merged.size());
  for (auto& [labels, entry] : merged) {
    auto& [series, sum_ns] = entry;
    series.route = labels.first;
    series.method = labels.second;
    series.sum_seconds = static_cast<double>(sum_ns) / 1e9;
    out.push_back(std::move(series));
  }
  return out;
}

std::vector<RequestMetrics::PartnerSeries> RequestMetrics::partners() const {
  struct Merged {
    std::uint64_t requests = 0;
    std::uint64_t seen_sequence = 0;
    std::uint64_t quota = 0;
    std::int64_t reset_at_ms = 0;
  };
  std::map<std::string, Merged, std::less<>> merged;
  {
    std::lock_guard lock(shards_mutex_);
    for (const auto& shard : shards_) {
      for (const PartnerCell* cell = shard->partners_head.load(std::memory_order_acquire); cell;
           cell = cell->next.get()) {
        Merged& m = merged[cell->partner];
        m.requests += cell->requests.load(std::memory_order_relaxed);
        std::uint64_t seen = cell->seen_sequence.load(std::memory_order_relaxed);
        if (seen > m.seen_sequence) {  // the latest response wins, whichever thread served it
          m.seen_sequence = seen;
          m.quota = cell->quota.load(std::memory_order_relaxed);
          m.reset_at_ms = cell->reset_at_ms.load(std::memory_order_relaxed);
        }
      }
    }
  }
  std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
  std::vector<PartnerSeries> out;
  out.reserve(merged.size());
  for (const auto& [partner, m] : merged) {
    double ratio = 0;
    std::uint64_t limit = m.quota & 0xffffffffu;
    if (limit > 0 && now_ms < m.reset_at_ms) {
      ratio = static_cast<double>(m.quota >> 32) / static_cast<double>(limit);
    }
    out.push_back({partner, m.requests, ratio});
  }
  return out;
}

}  // namespace portico::observability
