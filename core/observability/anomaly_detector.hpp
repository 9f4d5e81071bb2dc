// Abnormal-pattern detection in process: an auth-failure burst from one IP (the client guard's
// lockout), a partner's sudden traffic spike, and scanning (many 404s or 401s from one client IP).
// Each finding is counted per kind and handed to a report callback (the structured warning line
// and the ops webhook).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "portico/sdk/text_key.hpp"

namespace portico::observability {

enum class AnomalyKind { auth_failure_burst, traffic_spike, scanning };
inline constexpr std::array<AnomalyKind, 3> kAnomalyKinds = {
    AnomalyKind::auth_failure_burst, AnomalyKind::traffic_spike, AnomalyKind::scanning};
const char* to_string(AnomalyKind kind);

struct Anomaly {
  AnomalyKind kind = AnomalyKind::scanning;
  std::string client_ip;   // auth_failure_burst, scanning
  std::string partner_id;  // traffic_spike
  // Failed authentications (burst), requests (spike) or 404/401 responses (scanning) in the window.
  std::uint64_t observed = 0;
  double baseline = 0;  // spike: the trailing average per interval
  std::chrono::seconds window{};
  std::string detail;  // one sentence for the operator
};

// {"event":"anomaly","kind":..., ...}: the warning line's payload and the ops webhook's data.
std::string anomaly_json(const Anomaly& anomaly);

struct DetectorSettings {
  // Scanning: this many 404/401 responses to one client IP within one window.
  std::uint64_t scan_threshold = 100;
  std::chrono::seconds scan_window{60};
  // Spike: a partner's requests in one interval above `spike_factor` × its average over the
  // previous `spike_trailing_intervals` intervals, and at least `spike_min_requests` (so a quiet
  // partner's 3 → 20 does not fire). A partner is judged only once its history is full.
  std::chrono::seconds spike_interval{10};
  std::size_t spike_trailing_intervals = 30;
  double spike_factor = 5.0;
  std::uint64_t spike_min_requests = 100;
  // After a finding, the same IP or partner is not reported again for this long.
  std::chrono::seconds cooldown{15 * 60};
  std::size_t max_tracked = 100'000;  // IPs or partners kept in memory
};

class AnomalyDetectors {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using Report = std::function<void(const Anomaly&)>;

  AnomalyDetectors(DetectorSettings settings, Clock clock, Report report);

  // The client guard's lockout: an auth-failure burst of `failures` failed authentications from
  // `client_ip` within `window`; `detail` is the guard's warning ("client <ip> locked out ...").
  void on_lockout(std::string_view client_ip, std::uint64_t failures, std::chrono::seconds window,
                  std::string_view detail);
  // Every partner-listener response; only 404 and 401 do any work (a sharded map, locked).
  void on_response(std::string_view client_ip, int status);
  // Every spike_interval: each partner's cumulative request count so far.
  void on_interval(const std::vector<std::pair<std::string, std::uint64_t>>& partner_totals);

  std::uint64_t count(AnomalyKind kind) const {
    return counts_[static_cast<std::size_t>(kind)].load(std::memory_order_relaxed);
  }
  const DetectorSettings& settings() const { return settings_; }

 private:
  struct ScanEntry {
    std::int64_t window_start_ms = 0;
    std::uint64_t count = 0;
    std::int64_t quiet_until_ms = 0;
  };
  struct ScanShard {
    std::mutex mutex;
    // Looked up by string_view: no copy of the IP per 404 or 401.
    std::unordered_map<std::string, ScanEntry, sdk::TextHash, sdk::TextEqual> clients;
  };
  struct PartnerHistory {
    std::uint64_t last_total = 0;
    std::deque<std::uint64_t> intervals;  // requests per interval, oldest first
    std::int64_t quiet_until_ms = 0;
  };
  static constexpr std::size_t kScanShards = 16;

  std::int64_t now_ms() const;
  void fire(Anomaly anomaly);

  DetectorSettings settings_;
  Clock clock_;
  Report report_;
  std::array<std::atomic<std::uint64_t>, kAnomalyKinds.size()> counts_{};
  std::array<ScanShard, kScanShards> scan_shards_;
  std::mutex spike_mutex_;  // on_interval runs on the housekeeping thread only; held for safety
  std::map<std::string, PartnerHistory, std::less<>> partners_;
};

}  // namespace portico::observability
