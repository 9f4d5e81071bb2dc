#include "core/observability/observability.hpp"

#include <charconv>
#include <map>

#include "core/observability/access_log.hpp"
#include "core/observability/build_info.hpp"
#include "core/observability/log_retention.hpp"
#include "core/observability/ops_webhook.hpp"
#include "core/observability/process_stats.hpp"
#include "core/observability/prometheus_text.hpp"
#include "core/pipeline/client_guard.hpp"
#include "core/pipeline/snapshot.hpp"
#include "portico/sdk/thread_name.hpp"

namespace portico::observability {
namespace {

constexpr std::size_t kMissingCredentials = 0;
constexpr std::size_t kInvalidCredentials = 1;

// A request's method as a label: the route's own when one matched, otherwise a known method or
// "other", so junk methods cannot mint series.
std::string_view method_label(const pipeline::ObservedRequest& o) {
  if (o.route) return o.route->route.method;
  static constexpr std::string_view kKnown[] = {"GET",   "HEAD",   "POST",   "PUT",
                                                "PATCH", "DELETE", "OPTIONS"};
  for (auto known : kKnown) {
    if (o.request.method == known) return known;
  }
  return "other";
}

std::optional<QuotaSample> quota_of(const pipeline::ObservedRequest& o) {
  if (!o.quota) return std::nullopt;
  return QuotaSample{o.quota->limit, o.quota->remaining, o.quota->reset_seconds};
}

}  // namespace

Observability::Observability(ObservabilityOptions options)
    : options_(std::move(options)),
      metrics_(options_.steady_clock),
      detectors_(options_.detectors, options_.steady_clock,
                 [this](const Anomaly& anomaly) { report(anomaly); }) {
  if (!options_.wall_clock) options_.wall_clock = std::chrono::system_clock::now;
  if (!options_.steady_clock) options_.steady_clock = std::chrono::steady_clock::now;
  if (!options_.ops_webhook_url.empty()) {
    ops_webhook_ =
        std::make_unique<OpsWebhook>(options_.ops_webhook_url, options_.ops_webhook_secret,
                                     options_.warn, std::chrono::seconds(5), options_.wall_clock);
  }
  if (!options_.log_dir.empty()) {
    access_log_ = std::make_unique<AccessLog>(options_.log_dir);
    retention_ = std::make_unique<LogRetention>(options_.log_dir, options_.retention_days,
                                                options_.wall_clock, options_.warn);
  }
  last_interval_ = options_.steady_clock();
}

Observability::~Observability() {
  stop();
}

void Observability::observe(const pipeline::ObservedRequest& o) {
  const Request& request = o.request;
  const Response& response = o.response;
  const Identity* who = request.identity.get();
  std::string_view route = o.route ? std::string_view(o.route->route.path) : "unmatched";
  std::string_view method = method_label(o);
  std::string_view tier = who ? (who->tier.empty() ? "unknown" : std::string_view(who->tier))
                              : std::string_view("none");
  metrics_.record({route, method, response.status, tier}, o.duration);
  if (who) metrics_.record_partner(who->partner_id, quota_of(o));
  if (response.status == 401) {
    bool presented = request.header("X-API-Key") || request.header("Authorization");
    auth_failures_[presented ? kInvalidCredentials : kMissingCredentials].fetch_add(
        1, std::memory_order_relaxed);
  }
  detectors_.on_response(request.client_ip, response.status);
  if (access_log_) {
    AccessRecord record;
    record.time = options_.wall_clock() -
                  std::chrono::duration_cast<std::chrono::system_clock::duration>(o.duration);
    record.request_id = request.request_id;
    if (who) {
      record.partner_id = who->partner_id;
      record.key_id = who->credential_id;
    }
    record.method = request.method;
    if (o.route) record.route = o.route->route.path;
    record.path = request.path;
    record.status = response.status;
    record.duration = o.duration;
    record.bytes = response.body.size();
    record.client_ip = request.client_ip;
    record.user_agent = request.header("User-Agent").value_or("");
    access_log_->write(record);
  }
}

void Observability::on_lockout(const pipeline::Lockout& lockout) {
  detectors_.on_lockout(lockout.client_ip, static_cast<std::uint64_t>(lockout.failures),
                        std::chrono::ceil<std::chrono::seconds>(lockout.window), lockout.message);
}

void Observability::report(const Anomaly& anomaly) {
  std::string json = anomaly_json(anomaly);
  if (options_.warn) options_.warn("anomaly " + json);
  if (ops_webhook_) ops_webhook_->send("ops.anomaly", json);
}

void Observability::set_webhook_stats(std::function<WebhookStats()> source) {
  std::lock_guard lock(sources_mutex_);
  webhook_stats_ = std::move(source);
}

void Observability::set_io_stats(std::function<IoStats()> source) {
  std::lock_guard lock(sources_mutex_);
  io_stats_ = std::move(source);
}

void Observability::count_accept_pause(std::string_view listener, std::string_view reason) {
  std::lock_guard lock(accept_pauses_mutex_);
  ++accept_pauses_[{std::string(listener), std::string(reason)}];
}

std::string Observability::render_metrics(const pipeline::Snapshot& snapshot) const {
  PrometheusText out;
  std::string plugin_api = plugin_api_version();
  out.family("portico_build_info", "gauge",
             "Always 1; labels: the gateway version and plugin API.");
  out.sample("portico_build_info", {{"version", kGatewayVersion}, {"plugin_api", plugin_api}},
             std::uint64_t{1});
  out.family("portico_plugin_info", "gauge", "Always 1 per loaded plugin.");
  for (const auto& plugin : snapshot.plugins) {
    out.sample("portico_plugin_info",
               {{"name", plugin.loaded.info.name}, {"version", plugin.loaded.info.version}},
               std::uint64_t{1});
  }

  auto requests = metrics_.requests();
  out.family("portico_requests_total", "counter",
             "Partner-listener requests by route pattern, method, status and partner tier "
             "(route \"unmatched\" when no route matched; tier \"none\" when unauthenticated).");
  for (const auto& s : requests) {
    std::string status = std::to_string(s.status);
    out.sample("portico_requests_total",
               {{"route", s.route}, {"method", s.method}, {"status", status}, {"tier", s.tier}},
               s.count);
  }

  out.family("portico_request_duration_seconds", "histogram",
             "Time from the pipeline receiving a partner request to its response being ready.");
  for (const auto& s : metrics_.durations()) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kDurationBucketLabels.size(); ++i) {
      cumulative += s.buckets[i];
      out.sample("portico_request_duration_seconds_bucket",
                 {{"route", s.route}, {"method", s.method}, {"le", kDurationBucketLabels[i]}},
                 cumulative);
    }
    out.sample("portico_request_duration_seconds_bucket",
               {{"route", s.route}, {"method", s.method}, {"le", "+Inf"}}, s.count);
    out.sample("portico_request_duration_seconds_sum", {{"route", s.route}, {"method", s.method}},
               s.sum_seconds);
    out.sample("portico_request_duration_seconds_count", {{"route", s.route}, {"method", s.method}},
               s.count);
  }

  // Rejections by the tier rate limit: the only 429 an authenticated request gets from the core.
  std::map<std::string, std::uint64_t, std::less<>> rejections;
  if (snapshot.config) {
    for (const auto& [name, tier] : snapshot.config->tiers) rejections[name] = 0;
  }
  for (const auto& s : requests) {
    if (s.status == 429 && s.tier != "none") rejections[s.tier] += s.count;
  }
  out.family("portico_ratelimit_rejections_total", "counter",
             "Requests refused by the tier rate limit (429), by tier.");
  for (const auto& [tier, count] : rejections) {
    out.sample("portico_ratelimit_rejections_total", {{"tier", tier}}, count);
  }
  out.family("portico_ratelimit_usage_ratio", "gauge",
             "Used / quota of the partner's current rate-limit window, from its latest response's "
             "X-RateLimit-* headers; 0 once that window has passed.");
  for (const auto& p : metrics_.partners()) {
    out.sample("portico_ratelimit_usage_ratio", {{"partner", p.partner}}, p.usage_ratio);
  }

  const pipeline::ClientGuard* guard = snapshot.client_guard.get();
  out.family("portico_auth_failures_total", "counter",
             "Failed authentications on the partner listener: 401 without credentials "
             "(missing_credentials) or with unusable ones (invalid_credentials), and requests "
             "refused while the client IP was locked out (locked_out).");
  out.sample("portico_auth_failures_total", {{"reason", "missing_credentials"}},
             auth_failures_[kMissingCredentials].load(std::memory_order_relaxed));
  out.sample("portico_auth_failures_total", {{"reason", "invalid_credentials"}},
             auth_failures_[kInvalidCredentials].load(std::memory_order_relaxed));
  out.sample("portico_auth_failures_total", {{"reason", "locked_out"}},
             guard ? guard->locked_out_requests() : std::uint64_t{0});
  out.family("portico_auth_lockouts_total", "counter",
             "Client IPs locked out after repeated failed authentications.");
  out.sample("portico_auth_lockouts_total", {}, guard ? guard->lockouts() : std::uint64_t{0});
  out.family("portico_client_ip_rejections_total", "counter",
             "Requests refused by the per-client-IP limit before authentication.");
  out.sample("portico_client_ip_rejections_total", {},
             guard ? guard->rate_limited_requests() : std::uint64_t{0});

  out.family("portico_anomalies_total", "counter",
             "Abnormal patterns detected: auth_failure_burst, traffic_spike, scanning.");
  for (auto kind : kAnomalyKinds) {
    out.sample("portico_anomalies_total", {{"kind", to_string(kind)}}, detectors_.count(kind));
  }

  out.family("portico_accept_pauses_total", "counter",
             "Times a listener stopped accepting connections for a while: at its connection limit "
             "(connection_limit) or out of file descriptors or memory (fd_limit).");
  {
    std::lock_guard lock(accept_pauses_mutex_);
    for (const auto& [key, count] : accept_pauses_) {
      out.sample("portico_accept_pauses_total", {{"listener", key.first}, {"reason", key.second}},
                 count);
    }
  }

  WebhookStats webhooks;
  IoStats io;
  {
    std::lock_guard lock(sources_mutex_);
    if (webhook_stats_) webhooks = webhook_stats_();
    if (io_stats_) io = io_stats_();
  }
  constexpr const char* kNoWebhooks = " Stays 0 until webhook delivery is enabled.";
  out.family("portico_webhook_deliveries_total", "counter",
             std::string("Webhook delivery attempts by result.") + kNoWebhooks);
  out.sample("portico_webhook_deliveries_total", {{"result", "success"}}, webhooks.succeeded);
  out.sample("portico_webhook_deliveries_total", {{"result", "failure"}}, webhooks.failed);
  out.family("portico_webhook_queue_depth", "gauge",
             std::string("Webhook deliveries waiting to be attempted.") + kNoWebhooks);
  out.sample("portico_webhook_queue_depth", {}, webhooks.queue_depth);
  out.family("portico_webhook_oldest_pending_seconds", "gauge",
             std::string("Age of the oldest webhook delivery still pending.") + kNoWebhooks);
  out.sample("portico_webhook_oldest_pending_seconds", {}, webhooks.oldest_pending_seconds);

  out.family("portico_io_batch_calls_total", "counter",
             "System calls (io_uring_enter) that read requests (op=read) or sent responses "
             "(op=send) for every connection ready in an I/O loop's turn at once.");
  out.sample("portico_io_batch_calls_total", {{"op", "read"}}, io.read_calls);
  out.sample("portico_io_batch_calls_total", {{"op", "send"}}, io.send_calls);
  out.family("portico_io_batched_total", "counter",
             "Reads and responses done in those calls; divided by portico_io_batch_calls_total, "
             "the connections a call served. Stays 0 where io_uring cannot be used or "
             "server.batch_reads / server.batch_sends are off.");
  out.sample("portico_io_batched_total", {{"op", "read"}}, io.reads);
  out.sample("portico_io_batched_total", {{"op", "send"}}, io.sends);
  out.family("portico_io_yields_total", "counter",
             "I/O loop turns that ended giving up the core to a waiting thread: loops with fewer "
             "connections than server.yield_below_connections.");
  out.sample("portico_io_yields_total", {}, io.yields);

  ProcessStats process = read_process_stats();
  auto gauge = [&](const char* name, const char* type, const char* help, auto value) {
    if (!value) return;
    out.family(name, type, help);
    out.sample(name, {}, *value);
  };
  gauge("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
        process.resident_memory_bytes);
  gauge("process_open_fds", "gauge", "Open file descriptors.", process.open_fds);
  gauge("process_max_fds", "gauge", "Limit of open file descriptors.", process.max_fds);
  gauge("process_threads", "gauge", "OS threads of the process.", process.threads);
  gauge("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.",
        process.cpu_seconds);
  gauge("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch.",
        process.start_time_seconds);
  return out.take();
}

void Observability::housekeeping() {
  std::lock_guard lock(housekeeping_mutex_);
  if (access_log_) access_log_->flush();
  auto now = options_.steady_clock();
  if (now - last_interval_ >= detectors_.settings().spike_interval) {
    last_interval_ = now;
    std::vector<std::pair<std::string, std::uint64_t>> totals;
    for (auto& partner : metrics_.partners())
      totals.emplace_back(partner.partner, partner.requests);
    detectors_.on_interval(totals);
  }
  if (retention_) retention_->sweep_if_due();  // problems are reported through warn
}

void Observability::start() {
  std::lock_guard lock(thread_mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    sdk::name_this_thread("housekeeping");
    std::unique_lock lock(thread_mutex_);
    while (!stopping_) {
      lock.unlock();
      housekeeping();
      lock.lock();
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    }
  });
}

void Observability::stop() {
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (access_log_) access_log_->flush();
}

}  // namespace portico::observability
