// The immutable pipeline snapshot: config, loaded plugins, route table and stages. A request keeps
// the snapshot it started with; a reload builds a new one and swaps it in atomically. State that
// must survive a reload (client guard, usage counts, rate-limit counters inside the policy) lives
// outside and is shared by successive snapshots.
#pragma once

#include <atomic>
#include <mutex>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"
#include "core/pipeline/client_guard.hpp"
#include "core/pipeline/pending_request.hpp"
#include "core/pipeline/request_observer.hpp"
#include "core/pipeline/router.hpp"
#include "core/pipeline/stage.hpp"
#include "core/pipeline/usage_sink.hpp"
#include "core/plugin_host/plugin_loader.hpp"
#include "portico/plugin.hpp"

namespace portico::pipeline {

// One plugin instance in a snapshot. A reload that finds the same file (same identity) with the
// same settings carries the instance over to the new snapshot — initialised once, its service
// still running, its caches warm — so successive snapshots may share it.
struct ActivePlugin {
  std::shared_ptr<Host> host;  // declared first: outlives the plugin it was given to
  plugin_host::LoadedPlugin loaded;
  nlohmann::json settings;  // as validated against the plugin's schema
};

struct Snapshot {
  std::uint64_t generation = 0;
  std::shared_ptr<const config::Config> config;
  std::vector<ActivePlugin> plugins;      // highest priority first; keeps their code loaded
  // An authentication scheme and whether it may be asked authenticate_now (plugin API 3.2);
  // converts from a pointer to a scheme of this build's API (tests).
  struct Scheme {
    Scheme(AuthScheme* s, bool now = true) : scheme(s), answers_now(now) {}  // NOLINT: implicit
    AuthScheme* scheme;
    bool answers_now;
  };
  std::vector<Scheme> auth_schemes;  // in priority order
  // Tier limiter (the gateway's RateLimiterSlot, shared across reloads); null = no tier limiting.
  RateLimitPolicy* ratelimit = nullptr;
  std::shared_ptr<RateLimitPolicy> ratelimit_owner;  // keeps `ratelimit` alive; may be null
  Router router;
  Router admin_router;  // plugins' routes with Route::admin, served by the admin listener
  std::vector<std::unique_ptr<Stage>> stages;
  // Pre-authentication IP limit and lockout; null = neither.
  std::shared_ptr<ClientGuard> client_guard;
  // Told about every response to an authenticated partner; null = usage not recorded.
  std::shared_ptr<UsageSink> usage;
  // Told about every request once its response is ready (metrics, access log); null = none.
  std::shared_ptr<RequestObserver> observer;
  // Wall clock handed to the rate-limit policy; tests inject a fake one.
  std::function<std::chrono::system_clock::time_point()> clock = std::chrono::system_clock::now;
  // Told about exceptions that became a 500, for the error log.
  std::function<void(const Request&, std::string_view what)> on_internal_error;
  // Operator warnings raised while serving (e.g. a partner on an unknown tier), for the log.
  std::function<void(std::string_view)> on_warning;
  // The worker pool blocking handlers run on (Route::run_on); null runs them on the request's
  // thread (unit tests).
  Executor* workers = nullptr;

  // Runs the stages and waits for the answer; never throws. For tests and tools only — on an
  // I/O thread use start_request(). Always sets X-Request-Id; reports the outcome to `usage` and
  // to `observer`.
  Response handle(Request& request) const;
};

// Runs the partner pipeline on `request` without ever blocking the calling thread. The snapshot
// is kept until the request is answered: a reload waits for it exactly as for a synchronous one.
// Always sets X-Request-Id; reports the outcome to `usage` and to `observer`.
// The request is shared with the caller, which may fill it again for its next request once it
// holds the only reference (its strings keep their memory: HttpServer's I/O threads do, with the
// request objects of their pools).
std::shared_ptr<PendingRequest> start_request(std::shared_ptr<const Snapshot> snapshot,
                                              std::shared_ptr<Request> request, Respond respond);

// The [security] settings of the snapshot's config, or the defaults when it has none (tests).
const config::SecurityConfig& security_settings(const Snapshot& snapshot);

// The partner pipeline: client IP → client guard → route → authenticate → IP allow-list →
// tier rate limit → scope → handler. Trusted proxies come from config.server.trusted_proxies and
// are parsed here, once; throws std::invalid_argument naming a malformed entry.
std::vector<std::unique_ptr<Stage>> standard_stages(const config::Config& config);
// The same with no trusted proxies.
std::vector<std::unique_ptr<Stage>> standard_stages();

// A mutex rather than std::atomic<std::shared_ptr>: libstdc++ 12 implements the latter with a
// lock bit that a load releases with relaxed order, which ThreadSanitizer reports as a race with
// the next store (the thread suite found it under reloads). Uncontended, the mutex costs what the
// lock bit does: one atomic exchange each way, and the reference count either way.
class SnapshotHolder {
 public:
  std::shared_ptr<const Snapshot> load() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void store(std::shared_ptr<const Snapshot> next) {
    std::shared_ptr<const Snapshot> previous;  // released after the lock: may unload plugins
    std::lock_guard lock(mutex_);
    previous = std::move(current_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> current_;
};

}  // namespace portico::pipeline
