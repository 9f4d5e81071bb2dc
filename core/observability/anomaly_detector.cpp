#include "core/observability/anomaly_detector.hpp"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <numeric>

namespace portico::observability {

const char* to_string(AnomalyKind kind) {
  switch (kind) {
    case AnomalyKind::auth_failure_burst: return "auth_failure_burst";
    case AnomalyKind::traffic_spike: return "traffic_spike";
    case AnomalyKind::scanning: return "scanning";
  }
  return "unknown";
}

std::string anomaly_json(const Anomaly& a) {
  nlohmann::json j{{"event", "anomaly"}, {"kind", to_string(a.kind)}};
  if (!a.client_ip.empty()) j["client_ip"] = a.client_ip;
  if (!a.partner_id.empty()) j["partner_id"] = a.partner_id;
  j["observed"] = a.observed;
  if (a.kind == AnomalyKind::traffic_spike) j["baseline"] = a.baseline;
  j["window_seconds"] = a.window.count();
  j["detail"] = a.detail;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

AnomalyDetectors::AnomalyDetectors(DetectorSettings settings, Clock clock, Report report)
    : settings_(settings), clock_(std::move(clock)), report_(std::move(report)) {
  if (!clock_) clock_ = std::chrono::steady_clock::now;
}

std::int64_t AnomalyDetectors::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
}

void AnomalyDetectors::fire(Anomaly anomaly) {
  counts_[static_cast<std::size_t>(anomaly.kind)].fetch_add(1, std::memory_order_relaxed);
  if (report_) report_(anomaly);
}

void AnomalyDetectors::on_lockout(std::string_view client_ip, std::uint64_t failures,
                                  std::chrono::seconds window, std::string_view detail) {
  Anomaly a;
  a.kind = AnomalyKind::auth_failure_burst;
  a.client_ip = client_ip.empty() ? std::string("unknown") : std::string(client_ip);
  a.observed = failures;
  a.window = window;
  a.detail = std::string(detail);
  fire(std::move(a));
}

void AnomalyDetectors::on_response(std::string_view client_ip, int status) {
  if (status != 404 && status != 401) return;
  if (settings_.scan_threshold == 0) return;
  std::int64_t now = now_ms();
  std::int64_t window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(settings_.scan_window).count();
  Anomaly found;
  bool fired = false;
  {
    const sdk::HashedText ip = sdk::hashed_text(client_ip);  // for the shard and its map: once
    ScanShard& shard = scan_shards_[ip.hash % kScanShards];
    std::lock_guard lock(shard.mutex);
    auto it = shard.clients.find(ip);
    if (it == shard.clients.end()) {
      if (shard.clients.size() >= settings_.max_tracked / kScanShards) {
        std::erase_if(shard.clients, [&](const auto& item) {
          return now - item.second.window_start_ms >= window_ms &&
                 item.second.quiet_until_ms <= now;
        });
        if (shard.clients.size() >= settings_.max_tracked / kScanShards) return;
      }
      it = shard.clients.emplace(std::string(client_ip), ScanEntry{now, 0, 0}).first;
    }
    ScanEntry& entry = it->second;
    if (now - entry.window_start_ms >= window_ms) {
      entry.window_start_ms = now;
      entry.count = 0;
    }
    ++entry.count;
    if (entry.count >= settings_.scan_threshold && entry.quiet_until_ms <= now) {
      entry.quiet_until_ms =
          now + std::chrono::duration_cast<std::chrono::milliseconds>(settings_.cooldown).count();
      found.kind = AnomalyKind::scanning;
      found.client_ip = std::string(client_ip);
      found.observed = entry.count;
      found.window = settings_.scan_window;
      found.detail = fmt::format("client {} got {} 404/401 responses within {} s", client_ip,
                                 entry.count, settings_.scan_window.count());
      fired = true;
    }
  }
  if (fired) fire(std::move(found));  // outside the lock: the report may log or queue a POST
}

void AnomalyDetectors::on_interval(
    const std::vector<std::pair<std::string, std::uint64_t>>& partner_totals) {
  std::vector<Anomaly> found;
  {
    std::lock_guard lock(spike_mutex_);
    std::int64_t now = now_ms();
    for (const auto& [partner, total] : partner_totals) {
      auto it = partners_.find(partner);
      if (it == partners_.end()) {
        if (partners_.size() >= settings_.max_tracked) continue;
        // First sight: what it sent so far is no interval of ours.
        partners_.emplace(partner, PartnerHistory{total, {}, 0});
        continue;
      }
      PartnerHistory& h = it->second;
      std::uint64_t current = total >= h.last_total ? total - h.last_total : 0;
      h.last_total = total;
      if (h.intervals.size() >= settings_.spike_trailing_intervals) {
        double average = static_cast<double>(std::accumulate(h.intervals.begin(), h.intervals.end(),
                                                             std::uint64_t{0})) /
                         static_cast<double>(h.intervals.size());
        if (current >= settings_.spike_min_requests &&
            static_cast<double>(current) > settings_.spike_factor * average &&
            h.quiet_until_ms <= now) {
          h.quiet_until_ms =
              now +
              std::chrono::duration_cast<std::chrono::milliseconds>(settings_.cooldown).count();
          Anomaly a;
          a.kind = AnomalyKind::traffic_spike;
          a.partner_id = partner;
          a.observed = current;
          a.baseline = average;
          a.window = settings_.spike_interval;
          a.detail = fmt::format(
              "partner {} sent {} requests in {} s against a trailing average of {:.1f}", partner,
              current, settings_.spike_interval.count(), average);
          found.push_back(std::move(a));
        }
        h.intervals.pop_front();
      }
      h.intervals.push_back(current);
    }
  }
  for (auto& anomaly : found) fire(std::move(anomaly));
}

}  // namespace portico::observability
