// Protection in front of authentication, per client IP: a request limit, and a lockout of an IP
// after repeated failed authentications (the first "abnormal pattern" detector). The state must
// survive config reloads, so the guard lives outside the snapshot; each snapshot holds a
// shared_ptr to the same guard and passes its current [security] settings on every call.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/config/config.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/text_key.hpp"

namespace portico::pipeline {

struct GuardDecision {
  enum class Outcome { allowed, rate_limited, locked_out };
  Outcome outcome = Outcome::allowed;
  std::chrono::milliseconds retry_after{};  // when refused: until a request would pass
};

// A lockout as the guard decides it: the warning line, and what it was decided on (for the
// auth-failure-burst detector).
struct Lockout {
  std::string client_ip;
  std::int64_t failures = 0;             // failed authentications counted within `window`
  std::chrono::milliseconds window{};    // settings.auth_failure_window
  std::chrono::milliseconds duration{};  // settings.lockout
  // "client <ip> locked out for <duration>s after <failures> failed authentications within
  // <window>s"
  std::string message;
};

class ClientGuard {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using LockoutSink = std::function<void(const Lockout&)>;

  // `max_clients` bounds memory: beyond it, idle IPs are pruned, and if every tracked IP is still
  // active a new IP is let through untracked rather than evicting someone's lockout.
  explicit ClientGuard(Clock clock = std::chrono::steady_clock::now, LockoutSink on_lockout = {},
                       std::size_t max_clients = 100'000);

  // Called for every request before routing: a locked-out IP is refused, then the per-IP limit
  // (sliding window counter) is applied. Refused requests do not count against the limit.
  GuardDecision admit(std::string_view client_ip, const config::SecurityConfig& settings);
  // Only the lockout, for a listener without the per-IP request limit (the admin API): locked_out
  // (counted like admit's) or allowed. Tracks no new IP.
  GuardDecision check_lockout(std::string_view client_ip);
  // Called for every 401 of the authenticate stage. The failure that reaches
  // settings.auth_failure_limit within auth_failure_window locks the IP out for settings.lockout,
  // tells the lockout sink once and counts one lockout.
  void record_auth_failure(std::string_view client_ip, const config::SecurityConfig& settings);
  // Drops IPs idle for two windows and not locked out. Runs by itself now and then; callable.
  void prune(const config::SecurityConfig& settings);

  // For /metrics.
  std::uint64_t lockouts() const { return lockouts_.load(std::memory_order_relaxed); }
  std::uint64_t locked_out_requests() const { return locked_out_.load(std::memory_order_relaxed); }
  std::uint64_t rate_limited_requests() const {
    return rate_limited_.load(std::memory_order_relaxed);
  }
  std::uint64_t auth_failures() const { return auth_failures_.load(std::memory_order_relaxed); }
  std::size_t tracked_clients() const;

 private:
  // Two fixed windows weighted by overlap (Cloudflare's sliding window counter).
  struct SlidingCounter {
    std::int64_t window_ms = 0;
    std::int64_t index = 0;  // now / window_ms of `current`
    std::int64_t current = 0;
    std::int64_t previous = 0;
    void roll(std::int64_t now_ms, std::int64_t window);
    double estimate(std::int64_t now_ms) const;
    std::int64_t ms_until_below(std::int64_t now_ms, std::int64_t limit) const;
  };
  struct Entry {
    SlidingCounter requests;
    SlidingCounter failures;
    std::int64_t locked_until_ms = 0;
    std::int64_t last_seen_ms = 0;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry, sdk::TextHash, sdk::TextEqual> clients;
    std::int64_t last_prune_ms = 0;
  };
  static constexpr std::size_t kShards = 32;

  std::int64_t now_ms() const;
  // The IP hashed once (sdk::hashed_text) picks the shard and finds the entry in its map.
  Shard& shard_for(const sdk::HashedText& ip);
  // The entry of `ip`, created if there is room; null when the shard is full of active IPs.
  Entry* find_or_add(Shard& shard, const sdk::HashedText& ip, std::int64_t now,
                     const config::SecurityConfig& settings);
  void prune_locked(Shard& shard, std::int64_t now, const config::SecurityConfig& settings);

  Clock clock_;
  LockoutSink on_lockout_;
  std::size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> lockouts_{0};
  std::atomic<std::uint64_t> locked_out_{0};
  std::atomic<std::uint64_t> rate_limited_{0};
  std::atomic<std::uint64_t> auth_failures_{0};
};

// The health, readiness and liveness probes' paths: /healthz, /readyz, /livez. A GET or HEAD of
// one that a listener serves without credentials is never refused by the guard nor counted
// against it (a busy address's load balancer must not see the gateway as down).
bool is_probe_path(std::string_view path);

// The 429 of a refused decision, with Retry-After: code too_many_auth_failures for a lockout,
// rate_limited for the per-IP limit.
Problem guard_refusal(const GuardDecision& decision, const config::SecurityConfig& settings);

}  // namespace portico::pipeline
