#include "core/pipeline/client_guard.hpp"

#include <algorithm>
#include <cmath>

namespace portico::pipeline {
namespace {

std::int64_t idle_after_ms(const config::SecurityConfig& settings) {
  return 2 * std::max(settings.client_ip_window.count(), settings.auth_failure_window.count());
}

std::string seconds_text(std::chrono::milliseconds ms) {
  return std::to_string((ms.count() + 999) / 1000) + "s";
}

}  // namespace

void ClientGuard::SlidingCounter::roll(std::int64_t now_ms, std::int64_t window) {
  window = std::max<std::int64_t>(window, 1);
  if (window != window_ms) {  // first use, or the window changed on a reload: start afresh
    window_ms = window;
    index = now_ms / window;
    current = previous = 0;
    return;
  }
  std::int64_t now_index = now_ms / window;
  if (now_index <= index) return;
  previous = now_index == index + 1 ? current : 0;
  current = 0;
  index = now_index;
}

double ClientGuard::SlidingCounter::estimate(std::int64_t now_ms) const {
  double elapsed = static_cast<double>(now_ms - index * window_ms) / static_cast<double>(window_ms);
  return static_cast<double>(previous) * (1.0 - std::clamp(elapsed, 0.0, 1.0)) +
         static_cast<double>(current);
}

std::int64_t ClientGuard::SlidingCounter::ms_until_below(std::int64_t now_ms,
                                                         std::int64_t limit) const {
  const double window = static_cast<double>(window_ms);
  std::int64_t start = index * window_ms;
  std::int64_t target;
  if (current < limit) {
    if (previous == 0) return 0;
    // Within this window, once the previous window's weight has shrunk enough.
    double fraction = 1.0 - static_cast<double>(limit - current) / static_cast<double>(previous);
    target = start + static_cast<std::int64_t>(std::floor(fraction * window)) + 1;
  } else {
    // In the next window, once this window's weight has shrunk below the limit.
    double fraction = 1.0 - static_cast<double>(limit) / static_cast<double>(current);
    target = start + window_ms + static_cast<std::int64_t>(std::floor(fraction * window)) + 1;
  }
  return std::max<std::int64_t>(target - now_ms, 1);
}

ClientGuard::ClientGuard(Clock clock, LockoutSink on_lockout, std::size_t max_clients)
    : clock_(std::move(clock)),
      on_lockout_(std::move(on_lockout)),
      max_per_shard_(std::max<std::size_t>(max_clients / kShards, 1)) {
  if (!clock_) clock_ = std::chrono::steady_clock::now;
}

std::int64_t ClientGuard::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
}

ClientGuard::Shard& ClientGuard::shard_for(const sdk::HashedText& ip) {
  return shards_[ip.hash % kShards];
}

ClientGuard::Entry* ClientGuard::find_or_add(Shard& shard, const sdk::HashedText& ip,
                                             std::int64_t now,
                                             const config::SecurityConfig& settings) {
  if (now - shard.last_prune_ms >= idle_after_ms(settings)) prune_locked(shard, now, settings);
  if (auto it = shard.clients.find(ip); it != shard.clients.end()) return &it->second;
  if (shard.clients.size() >= max_per_shard_) {
    // Full: try a prune at most once a second, so a flood of new IPs costs no O(n) per request.
    if (now - shard.last_prune_ms >= 1000) prune_locked(shard, now, settings);
    if (shard.clients.size() >= max_per_shard_) return nullptr;
  }
  return &shard.clients.emplace(std::string(ip.text), Entry{}).first->second;
}

void ClientGuard::prune_locked(Shard& shard, std::int64_t now,
                               const config::SecurityConfig& settings) {
  std::int64_t idle = idle_after_ms(settings);
  std::erase_if(shard.clients, [&](const auto& item) {
    const Entry& entry = item.second;
    return entry.locked_until_ms <= now && now - entry.last_seen_ms > idle;
  });
  shard.last_prune_ms = now;
}

GuardDecision ClientGuard::admit(std::string_view client_ip,
                                 const config::SecurityConfig& settings) {
  GuardDecision decision;
  std::int64_t now = now_ms();
  const sdk::HashedText ip = sdk::hashed_text(client_ip);  // for the shard and its map: once
  Shard& shard = shard_for(ip);
  std::lock_guard lock(shard.mutex);
  Entry* entry = find_or_add(shard, ip, now, settings);
  if (!entry) return decision;
  entry->last_seen_ms = now;
  if (entry->locked_until_ms > now) {
    locked_out_.fetch_add(1, std::memory_order_relaxed);
    decision.outcome = GuardDecision::Outcome::locked_out;
    decision.retry_after = std::chrono::milliseconds(entry->locked_until_ms - now);
    return decision;
  }
  if (settings.client_ip_limit <= 0) return decision;
  SlidingCounter& requests = entry->requests;
  requests.roll(now, settings.client_ip_window.count());
  if (requests.estimate(now) >= static_cast<double>(settings.client_ip_limit)) {
    rate_limited_.fetch_add(1, std::memory_order_relaxed);
    decision.outcome = GuardDecision::Outcome::rate_limited;
    decision.retry_after =
        std::chrono::milliseconds(requests.ms_until_below(now, settings.client_ip_limit));
    return decision;
  }
  ++requests.current;
  return decision;
}

GuardDecision ClientGuard::check_lockout(std::string_view client_ip) {
  GuardDecision decision;
  std::int64_t now = now_ms();
  const sdk::HashedText ip = sdk::hashed_text(client_ip);
  Shard& shard = shard_for(ip);
  std::lock_guard lock(shard.mutex);
  auto it = shard.clients.find(ip);
  if (it == shard.clients.end() || it->second.locked_until_ms <= now) return decision;
  it->second.last_seen_ms = now;
  locked_out_.fetch_add(1, std::memory_order_relaxed);
  decision.outcome = GuardDecision::Outcome::locked_out;
  decision.retry_after = std::chrono::milliseconds(it->second.locked_until_ms - now);
  return decision;
}

void ClientGuard::record_auth_failure(std::string_view client_ip,
                                      const config::SecurityConfig& settings) {
  auth_failures_.fetch_add(1, std::memory_order_relaxed);
  if (settings.auth_failure_limit <= 0) return;
  Lockout lockout;
  {
    std::int64_t now = now_ms();
    const sdk::HashedText ip = sdk::hashed_text(client_ip);
    Shard& shard = shard_for(ip);
    std::lock_guard lock(shard.mutex);
    Entry* entry = find_or_add(shard, ip, now, settings);
    if (!entry) return;
    entry->last_seen_ms = now;
    if (entry->locked_until_ms > now) return;  // a request that was already in flight
    SlidingCounter& failures = entry->failures;
    failures.roll(now, settings.auth_failure_window.count());
    ++failures.current;
    double counted = failures.estimate(now);
    if (counted < static_cast<double>(settings.auth_failure_limit)) return;
    entry->locked_until_ms = now + settings.lockout.count();
    failures.current = failures.previous = 0;  // a fresh count once the lockout ends
    lockouts_.fetch_add(1, std::memory_order_relaxed);
    lockout.client_ip = std::string(client_ip);
    // What was counted (the limit itself, unless a reload lowered the limit below the count).
    lockout.failures = static_cast<std::int64_t>(std::floor(counted));
    lockout.window = settings.auth_failure_window;
    lockout.duration = settings.lockout;
    lockout.message = "client " + lockout.client_ip + " locked out for " +
                      seconds_text(settings.lockout) + " after " +
                      std::to_string(lockout.failures) + " failed authentications within " +
                      seconds_text(settings.auth_failure_window);
  }
  if (on_lockout_) on_lockout_(lockout);  // outside the shard lock: a slow sink must not block
}

void ClientGuard::prune(const config::SecurityConfig& settings) {
  std::int64_t now = now_ms();
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    prune_locked(shard, now, settings);
  }
}

std::size_t ClientGuard::tracked_clients() const {
  std::size_t total = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.clients.size();
  }
  return total;
}

bool is_probe_path(std::string_view path) {
  return path == "/healthz" || path == "/readyz" || path == "/livez";
}

Problem guard_refusal(const GuardDecision& decision, const config::SecurityConfig& settings) {
  std::int64_t retry = std::max<std::int64_t>(1, (decision.retry_after.count() + 999) / 1000);
  Problem p;
  p.status = 429;
  if (decision.outcome == GuardDecision::Outcome::locked_out) {
    p.code = "too_many_auth_failures";
    p.title = "Too many failed authentications";
    p.detail =
        "Requests from your IP address are refused for a while after repeated failed "
        "authentications. Try again in " +
        std::to_string(retry) + " seconds with valid credentials.";
  } else {
    p.code = "rate_limited";
    p.title = "Too many requests";
    p.detail = "Your IP address sent more than " + std::to_string(settings.client_ip_limit) +
               " requests in " + std::to_string((settings.client_ip_window.count() + 999) / 1000) +
               " seconds. Try again in " + std::to_string(retry) + " seconds.";
  }
  p.headers.emplace_back("Retry-After", std::to_string(retry));
  return p;
}

}  // namespace portico::pipeline
