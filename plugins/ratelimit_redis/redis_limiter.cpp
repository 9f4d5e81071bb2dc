// The Redis-backed tier limit (redis_limiter.hpp).
#include "redis_limiter.hpp"

#include <future>
#include <utility>

#include "plugins/ratelimit_common/quota.hpp"
#include "portico/sdk/problems.hpp"
#include "window_script.hpp"

namespace portico::ratelimit_redis {
namespace {

std::vector<std::string> script_args(const std::string& prefix, std::string_view key,
                                     const char* op, const RateLimitQuota& quota) {
  return {"1", prefix + std::string(key), op, std::to_string(quota.limit),
          std::to_string(quota.window.count())};
}

ProblemError unavailable() {
  Problem problem = sdk::problem(503, "rate_limit_unavailable", "Rate limit unavailable",
                                 "The rate limiter's store cannot be reached, so no request is "
                                 "admitted. Retry shortly.")
                        .problem();
  problem.headers.emplace_back("Retry-After", "1");
  return ProblemError(std::move(problem));
}

}  // namespace

RedisLimiter::RedisLimiter(LimiterSettings settings, Log* log)
    : settings_(std::move(settings)), log_(log), local_(settings_.max_local_keys) {
  RedisSettings redis = settings_.redis;
  redis.script = kWindowScript;
  pipeline_ = std::make_unique<RedisPipeline>(
      std::move(redis), [this](bool up, const std::string& why) { on_state(up, why); });
}

RedisLimiter::~RedisLimiter() {
  pipeline_.reset();  // joins its thread (failing what is queued) before the members go
}

void RedisLimiter::on_state(bool up, const std::string& why) {
  std::lock_guard lock(state_mutex_);
  if (up == !down_) return;  // no change: said already
  down_ = !up;
  const std::uint64_t degraded = up ? degraded_.exchange(0) : 0;  // the outage that just ended
  if (!log_) return;
  if (up) {
    log_->info("ratelimit_redis: " + why + "; " + std::to_string(degraded) + " requests were " +
               (settings_.failure_mode == FailureMode::open ? "limited locally"
                                                           : "refused with 503") +
               " meanwhile");
  } else {
    log_->warn("ratelimit_redis: " + why + "; failure_mode = " +
               (settings_.failure_mode == FailureMode::open
                    ? "open: counting locally, per node, until Redis is back"
                    : "closed: answering 503 rate_limit_unavailable until Redis is back"));
  }
}

void RedisLimiter::degrade(std::string_view key, const RateLimitQuota& quota,
                           std::chrono::system_clock::time_point now, const std::string& why,
                           const Completion<RateLimitDecision>& done) {
  ++degraded_;
  // A failure the pipeline did not see as an outage (an error reply) starts one too.
  on_state(false, why);
  if (settings_.failure_mode == FailureMode::open) {
    done(local_.acquire(key, quota, now));
  } else {
    done.fail(std::make_exception_ptr(unavailable()));
  }
}

void RedisLimiter::acquire_async(std::string_view key, const RateLimitQuota& quota,
                                 std::chrono::system_clock::time_point now,
                                 Completion<RateLimitDecision> done) {
  // A quota that admits nothing is refused without asking Redis, as the local policies do.
  if (ratelimit_common::admits_nothing(quota)) return done(ratelimit_common::refuse_all(quota));
  pipeline_->submit_script(
      script_args(settings_.key_prefix, key, "acquire", quota),
      [this, key = std::string(key), quota, now, done](RedisReply&& reply) {
        if (reply.kind != RedisReply::Kind::ok || reply.values.size() != 4) {
          const std::string why = reply.kind == RedisReply::Kind::ok
                                      ? "unexpected answer from the rate-limit script"
                                      : reply.error;
          return degrade(key, quota, now, why, done);
        }
        // Ends an outage of error replies (the pipeline never lost the connection).
        on_state(true, "the rate-limit script answers again");
        RateLimitDecision decision;
        decision.allowed = reply.values[0] == 1;
        decision.limit = quota.limit;
        decision.remaining = reply.values[1];
        decision.reset_after = std::chrono::milliseconds(reply.values[2]);
        decision.retry_after = std::chrono::milliseconds(reply.values[3]);
        done(decision);
      });
}

RateLimitDecision RedisLimiter::acquire(std::string_view key, const RateLimitQuota& quota,
                                        std::chrono::system_clock::time_point now) {
  auto promise = std::make_shared<std::promise<RateLimitDecision>>();
  auto answer = promise->get_future();
  acquire_async(key, quota, now,
                Completion<RateLimitDecision>(
                    [promise](RateLimitDecision&& decision, std::exception_ptr error) {
                      if (error) {
                        promise->set_exception(std::move(error));
                      } else {
                        promise->set_value(decision);
                      }
                    },
                    nullptr));
  return answer.get();
}

void RedisLimiter::refund(std::string_view key, const RateLimitQuota& quota,
                          std::chrono::system_clock::time_point now) {
  if (ratelimit_common::admits_nothing(quota)) return;
  // While Redis is down the request was counted locally (failure_mode open): refund it there.
  if (!pipeline_->up()) return local_.refund(key, quota, now);
  pipeline_->submit_script(script_args(settings_.key_prefix, key, "refund", quota),
                           [](RedisReply&&) {});
}

}  // namespace portico::ratelimit_redis
