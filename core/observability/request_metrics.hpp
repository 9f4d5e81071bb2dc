// Request counters for /metrics that never take a lock on the request path. Every thread that
// records gets its own shard of cells, one cell per label set, written only by that thread with
// relaxed atomics and summed when /metrics is scraped. A thread takes the registry's mutex once, to
// register its shard; a new cell is published to the scraper with a release store.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::observability {

// Upper bounds of portico_request_duration_seconds, in nanoseconds, and as `le` label text.
inline constexpr std::array<std::int64_t, 16> kDurationBucketsNs = {
    100'000,       250'000,       500'000,       1'000'000,     2'500'000,   5'000'000,
    10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000, 500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
inline constexpr std::array<const char*, 16> kDurationBucketLabels = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
    "0.05",   "0.1",     "0.25",   "0.5",   "1",      "2.5",   "5",    "10"};

// What one request is counted under.
struct RequestLabels {
  std::string_view route;   // the route pattern, "unmatched" when none matched
  std::string_view method;  // normalised
  int status = 0;
  std::string_view tier;  // "none" for unauthenticated requests
};

// The partner's quota as its latest response told it (X-RateLimit-*).
struct QuotaSample {
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
  std::int64_t reset_seconds = 0;  // until the quota is whole again
};

class RequestMetrics {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit RequestMetrics(Clock clock = std::chrono::steady_clock::now);
  ~RequestMetrics();
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  // One request: counted in portico_requests_total and the duration histogram.
  void record(const RequestLabels& labels, std::chrono::nanoseconds duration);
  // One request of an authenticated partner: its request count (for the spike detector) and, when
  // the response carried one, its quota usage.
  void record_partner(std::string_view partner_id, const std::optional<QuotaSample>& quota);

  struct RequestSeries {
    std::string route, method, tier;
    int status = 0;
    std::uint64_t count = 0;
  };
  struct DurationSeries {
    std::string route, method;
    std::array<std::uint64_t, kDurationBucketsNs.size() + 1> buckets{};  // per bucket; last: +Inf
    std::uint64_t count = 0;
    double sum_seconds = 0;
  };
  struct PartnerSeries {
    std::string partner;
    std::uint64_t requests = 0;
    double usage_ratio = 0;  // used ÷ quota in the current window; 0 once the window has passed
  };
  // Summed over every thread's shard, sorted by labels.
  std::vector<RequestSeries> requests() const;
  std::vector<DurationSeries> durations() const;
  std::vector<PartnerSeries> partners() const;

  struct Shard;  // defined in the .cpp; public so the thread-local cache there can name it

 private:
  Shard& local_shard();

  Clock clock_;
  // Orders partners' responses across threads: the latest one's quota is the gauge's value.
  // (Milliseconds tie when two threads answer in the same one.)
  std::atomic<std::uint64_t> response_sequence_{0};
  std::uint64_t id_;  // tells this registry's thread-local caches from those of earlier ones
  mutable std::mutex shards_mutex_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace portico::observability
