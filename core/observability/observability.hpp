// Everything the gateway tells operators about its own traffic, in one object that lives as long
// as the process: request metrics, the access log, the anomaly detectors and the /metrics text.
// It is the pipeline's RequestObserver. A housekeeping thread flushes the access log every second,
// feeds the spike detector and sweeps old log files once a day.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/observability/anomaly_detector.hpp"
#include "core/observability/request_metrics.hpp"
#include "core/pipeline/request_observer.hpp"

namespace portico::pipeline {
struct Lockout;
struct Snapshot;
}  // namespace portico::pipeline

namespace portico::observability {

class AccessLog;
class LogRetention;
class OpsWebhook;

// Webhook delivery numbers, for when a delivery service reports them; zeros until then.
struct WebhookStats {
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t queue_depth = 0;
  double oldest_pending_seconds = 0;
};

// The I/O loops' batches, for when the HTTP layer reports them (http::io_counters); zeros until
// then.
struct IoStats {
  std::uint64_t read_calls = 0;  // io_uring_enter calls that read requests
  std::uint64_t reads = 0;
  std::uint64_t send_calls = 0;  // ... that sent responses
  std::uint64_t sends = 0;
  std::uint64_t yields = 0;  // turns that ended giving up the core
};

struct ObservabilityOptions {
  std::filesystem::path log_dir;  // empty: no access log and no retention sweep
  int retention_days = 90;
  DetectorSettings detectors;
  std::string ops_webhook_url;  // empty: anomalies are logged and counted only
  std::string ops_webhook_secret;
  std::function<std::chrono::system_clock::time_point()> wall_clock =
      std::chrono::system_clock::now;
  std::function<std::chrono::steady_clock::time_point()> steady_clock =
      std::chrono::steady_clock::now;
  // Warnings for the process log: one "anomaly {json}" line per finding, and problems.
  std::function<void(const std::string&)> warn;
};

class Observability final : public pipeline::RequestObserver {
 public:
  // Throws std::runtime_error when the log directory cannot be written, std::invalid_argument for
  // an ops webhook URL or secret it cannot use.
  explicit Observability(ObservabilityOptions options);
  ~Observability() override;
  Observability(const Observability&) = delete;
  Observability& operator=(const Observability&) = delete;

  void observe(const pipeline::ObservedRequest& observed) override;
  // The ClientGuard's lockout, forwarded by whoever builds the guard: an auth-failure burst.
  void on_lockout(const pipeline::Lockout& lockout);

  // The Prometheus text of GET /metrics. `snapshot` gives the plugins, the configured tiers and
  // the client guard's counters.
  std::string render_metrics(const pipeline::Snapshot& snapshot) const;
  void set_webhook_stats(std::function<WebhookStats()> source);
  void set_io_stats(std::function<IoStats()> source);
  // A listener stopped accepting for a while (http::HttpServerOptions::on_accept_pause).
  void count_accept_pause(std::string_view listener, std::string_view reason);

  // One round of periodic work: flush the access log, feed the spike detector once per
  // spike_interval, sweep old logs once per day. start() runs it every second on its own thread.
  void housekeeping();
  void start();
  void stop();  // joins the housekeeping thread; idempotent

  const RequestMetrics& metrics() const { return metrics_; }
  const AnomalyDetectors& detectors() const { return detectors_; }

 private:
  void report(const Anomaly& anomaly);

  ObservabilityOptions options_;
  RequestMetrics metrics_;
  std::unique_ptr<OpsWebhook> ops_webhook_;
  AnomalyDetectors detectors_;
  std::unique_ptr<AccessLog> access_log_;
  std::unique_ptr<LogRetention> retention_;
  std::array<std::atomic<std::uint64_t>, 2> auth_failures_{};  // missing, invalid credentials
  mutable std::mutex accept_pauses_mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> accept_pauses_;
  mutable std::mutex sources_mutex_;  // the two below, set after construction
  std::function<WebhookStats()> webhook_stats_;
  std::function<IoStats()> io_stats_;

  std::mutex housekeeping_mutex_;  // one round at a time
  std::chrono::steady_clock::time_point last_interval_;
  std::mutex thread_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace portico::observability
