// The plugin contract: metadata, the five kinds, and the interfaces the pipeline calls.
// A plugin library exports one factory (see sdk_headers/portico/sdk/export.hpp) returning a Plugin.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "portico/api_version.hpp"
#include "portico/async.hpp"
#include "portico/config_schema.hpp"
#include "portico/database.hpp"
#include "portico/host.hpp"
#include "portico/http_types.hpp"
#include "portico/identity.hpp"
#include "portico/problem.hpp"

namespace portico {

enum class PluginKind { auth, ratelimit, routes, service, store };

inline const char* to_string(PluginKind kind) {
  switch (kind) {
    case PluginKind::auth: return "auth";
    case PluginKind::ratelimit: return "ratelimit";
    case PluginKind::routes: return "routes";
    case PluginKind::service: return "service";
    case PluginKind::store: return "store";
  }
  return "unknown";
}

// Kong-style plain metadata. Higher priority runs first among plugins of the same kind.
struct PluginInfo {
  std::string name;
  std::string version;  // semver of the plugin itself
  std::string description;
  int priority = 0;
  std::vector<PluginKind> kinds;
  ConfigSchema schema;
};

// --- auth -----------------------------------------------------------------------------------
struct AuthResult {
  enum class Outcome { not_mine, authenticated, rejected };
  Outcome outcome = Outcome::not_mine;
  std::shared_ptr<const Identity> identity;  // when authenticated
  // When rejected (401 with WWW-Authenticate). Since API 3.0 shared: a scheme that refuses with
  // the same problem every time makes it once and hands out the pointer (no copy per request).
  std::shared_ptr<const Problem> problem;

  static AuthResult not_mine() { return {}; }
  static AuthResult authenticated(std::shared_ptr<const Identity> who) {
    return {Outcome::authenticated, std::move(who), nullptr};
  }
  static AuthResult rejected(Problem why) {
    return {Outcome::rejected, nullptr, std::make_shared<const Problem>(std::move(why))};
  }
  // Since API 3.0. Throws std::invalid_argument for a null pointer.
  static AuthResult rejected(std::shared_ptr<const Problem> why) {
    if (!why) throw std::invalid_argument("AuthResult::rejected: null problem");
    return {Outcome::rejected, nullptr, std::move(why)};
  }
};

class AuthScheme {
 public:
  virtual ~AuthScheme() = default;
  // Called on the request's thread (an I/O thread): must not block. Answer from memory here; a
  // scheme that must ask another server overrides authenticate_async instead.
  virtual AuthResult authenticate(const Request& request) = 0;
  // Since API 2.0: what the core calls. `request` stays valid until `done` is answered; answer
  // from any thread. The default answers with authenticate().
  virtual void authenticate_async(const Request& request, Completion<AuthResult> done) {
    done.run([&] { return authenticate(request); });
  }
  // Since API 3.2: asked first, on the request's thread — the answer now, for a scheme that has it
  // in memory (usually `return authenticate(request);`), or std::nullopt, and the core calls
  // authenticate_async. Answering now spares the request a completion and its resumption. May
  // throw as authenticate() does. The default has no answer now.
  virtual std::optional<AuthResult> authenticate_now(const Request& request) {
    (void)request;
    return std::nullopt;
  }
};

// --- ratelimit ------------------------------------------------------------------------------
struct RateLimitQuota {
  std::string tier;
  std::int64_t limit = 0;              // requests per window
  std::chrono::milliseconds window{};  // window length
  std::int64_t burst = 0;              // extra allowance for burst-capable policies; 0 = none
};

struct RateLimitDecision {
  bool allowed = true;
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
  std::chrono::milliseconds reset_after{};  // until the quota is whole again
  std::chrono::milliseconds retry_after{};  // when refused: until one request would pass
};

// One key's counted requests in a form every policy understands (API 1.2), so a reload that
// replaces the policy — a new version of it, or another algorithm — carries the counts over
// instead of granting fresh quota.
struct RateLimitUsage {
  struct Hits {
    std::chrono::system_clock::time_point at;  // when they were counted (a bucket's start at most)
    std::int64_t count = 0;
  };
  std::string key;
  RateLimitQuota quota;    // the quota they were last counted under
  std::vector<Hits> hits;  // oldest first; only hits that still count against the quota at export
};

class RateLimitPolicy {
 public:
  virtual ~RateLimitPolicy() = default;
  // Counts one request for `key` at `now` and answers whether it may pass. Thread-safe.
  virtual RateLimitDecision acquire(std::string_view key, const RateLimitQuota& quota,
                                    std::chrono::system_clock::time_point now) = 0;
  // Since API 2.0: what the core calls, on the request's thread (never block there). A policy
  // whose counts live in another server (Redis) overrides it and answers `done` from any thread;
  // the default answers with acquire(). `key` and `quota` stay valid until `done` is answered.
  virtual void acquire_async(std::string_view key, const RateLimitQuota& quota,
                             std::chrono::system_clock::time_point now,
                             Completion<RateLimitDecision> done) {
    done.run([&] { return acquire(key, quota, now); });
  }
  // Since API 3.2: asked first, on the request's thread — the decision now, for a policy whose
  // counts are in memory (usually `return acquire(key, quota, now);`), or std::nullopt, and the
  // core calls acquire_async. May throw as acquire() does. The default has no answer now.
  virtual std::optional<RateLimitDecision> acquire_now(std::string_view key,
                                                       const RateLimitQuota& quota,
                                                       std::chrono::system_clock::time_point now) {
    (void)key;
    (void)quota;
    (void)now;
    return std::nullopt;
  }
  // Gives back one request acquire() admitted for `key` shortly before (the core refunds a 304
  // Not Modified, which must not count against the limit). Thread-safe. The default keeps
  // policies written before refunds existed compiling: they simply never refund.
  virtual void refund(std::string_view key, const RateLimitQuota& quota,
                      std::chrono::system_clock::time_point now) {
    (void)key;
    (void)quota;
    (void)now;
  }
  // Since API 1.2 (every 2.x plugin is asked). On a reload that
  // replaces the policy the core holds requests back for a moment, takes export_usage() from the
  // outgoing policy and hands it to import_usage() of the incoming one before it counts anything:
  // no request is lost or counted twice. A policy may describe its state approximately, but only
  // ever by more hits or later ones (never fresh quota); import_usage() must accept another
  // algorithm's export (hits at arbitrary times, quotas it has not seen).
  virtual std::vector<RateLimitUsage> export_usage(std::chrono::system_clock::time_point now) const {
    (void)now;
    return {};
  }
  virtual void import_usage(const std::vector<RateLimitUsage>& usage,
                            std::chrono::system_clock::time_point now) {
    (void)usage;
    (void)now;
  }
};

// --- routes ---------------------------------------------------------------------------------
// A handler that answers by returning: it runs where Route::run_on says.
using Handler = std::function<Response(const Request&)>;
// Since API 2.0. A handler that answers through `reply`, now or later, from any thread. It is
// called on the request's thread (an I/O thread) and must not block there: it answers at once
// from memory, or hands blocking work to Host::workers() and answers from there, or starts a
// non-blocking operation and answers from its callback. `request` stays valid until it answers.
// Since API 3.0 the reply takes an Answer: a Response, or a SharedResponse (http_types.hpp).
using Reply = Completion<Answer>;
using AsyncHandler = std::function<void(const Request& request, Reply reply)>;

// Since API 3.2: an AsyncHandler in two parts, for a route that usually answers from memory (a
// cache hit) and sometimes must wait (a miss). `now` runs on the request's thread and returns the
// answer, or std::nullopt — only then is `later` called, with a Reply, as any AsyncHandler. Set
// it as Route::async_handler (sdk::now_or_later_route); the core finds it there and calls `now`
// itself, so an answer given now needs no Reply and no resumption. Called as an AsyncHandler (by
// tests, say) it does the same through the Reply. `now` may throw as a Handler does.
struct NowOrLater {
  std::function<std::optional<Answer>(const Request& request)> now;
  AsyncHandler later;

  void operator()(const Request& request, Reply reply) const {
    std::optional<Answer> answer;
    try {
      answer = now(request);
    } catch (...) {
      return reply.fail(std::current_exception());
    }
    if (answer) return reply(std::move(*answer));
    later(request, std::move(reply));
  }
};

// Where a Handler runs (API 2.0).
enum class RunOn {
  // The core's worker pool (server.workers threads): may block on the database, a lock or the
  // disk without holding up any connection. The default.
  workers,
  // The request's own thread, an I/O thread serving many connections: only for answers computed
  // from memory in microseconds (health checks, static documents).
  io_thread,
};

struct Route {
  std::string method;         // "GET", "POST", ...
  std::string path;           // "/v1/products/{id}": literal segments and whole-segment captures
  std::string scope;          // required scope; empty = any authenticated caller
  bool authenticated = true;  // false: public (health, OAuth token endpoint, JWKS)
  Handler handler;            // set this, or async_handler
  // true: served on the admin listener (under /admin/v1, behind the admin token) instead of the
  // partner pipeline; `scope` and `authenticated` do not apply.
  bool admin = false;
  RunOn run_on = RunOn::workers;  // where `handler` runs
  AsyncHandler async_handler;     // when set, called instead of `handler` (run_on does not apply)
};

class RouteProvider {
 public:
  virtual ~RouteProvider() = default;
  virtual std::vector<Route> routes() = 0;
};

// --- service --------------------------------------------------------------------------------
class Service {
 public:
  virtual ~Service() = default;
  virtual void start() = 0;  // spawn own threads; return promptly
  virtual void stop() = 0;   // stop and join; called before the plugin is destroyed
};

// --- store ----------------------------------------------------------------------------------
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual std::shared_ptr<Database> open(const nlohmann::json& config) = 0;
};

// --- the plugin -----------------------------------------------------------------------------
class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual PluginInfo info() const = 0;
  // Schema steps for the tables this plugin owns, applied by the host before init().
  virtual std::vector<Migration> migrations() const { return {}; }
  // Config is validated before this is called; throw std::exception to refuse to start.
  virtual void init(Host& host) { (void)host; }

  // One accessor per kind; a plugin returns itself (or a member) for each kind it provides.
  virtual AuthScheme* auth() { return nullptr; }
  virtual RateLimitPolicy* ratelimit() { return nullptr; }
  virtual RouteProvider* routes() { return nullptr; }
  virtual Service* service() { return nullptr; }
  virtual StoreBackend* store() { return nullptr; }
};

// The factory every plugin library exports (through PORTICO_PLUGIN in the SDK).
using PluginFactory = std::unique_ptr<Plugin>();

}  // namespace portico
