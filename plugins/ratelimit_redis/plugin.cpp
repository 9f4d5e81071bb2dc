// ratelimit_redis: the tier limit counted in Redis, exact across gateway nodes and across
// restarts. Metadata, schema and the factory; the counting is redis_limiter.hpp and
// window_script.hpp, the client redis_pipeline.hpp.
#include <memory>
#include <stdexcept>
#include <string>

#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/schema.hpp"
#include "redis_limiter.hpp"
#include "redis_url.hpp"

namespace {

namespace rr = portico::ratelimit_redis;

class RedisRateLimitPlugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "ratelimit_redis";
  static constexpr const char* kVersion = "1.0.0";

  portico::PluginInfo info() const override {
    namespace sdk = portico::sdk;
    return {.name = kName,
            .version = kVersion,
            .description = "Tier limits counted in Redis: exact across gateway nodes and restarts",
            // Above the local policies: enabled, it is the policy in force.
            .priority = 200,
            .kinds = {portico::PluginKind::ratelimit},
            .schema = sdk::schema(
                {sdk::string("url")
                     .describe("redis://[[user]:password@]host[:port][/db] or "
                               "unix:///path/redis.sock[?db=N]")
                     .fallback("redis://127.0.0.1:6379/0"),
                 sdk::string("failure_mode")
                     .describe("When Redis cannot be reached: closed = 503 "
                               "rate_limit_unavailable, open = count locally, per node")
                     .one_of({"closed", "open"})
                     .fallback("closed"),
                 sdk::string("key_prefix")
                     .describe("Prefix of the Redis keys (one hash per partner)")
                     .fallback("portico:rl:"),
                 sdk::duration("connect_timeout")
                     .describe("How long a connection attempt may take")
                     .min(1)
                     .max(60000)
                     .fallback("200ms"),
                 sdk::duration("command_timeout")
                     .describe("How long Redis may take to answer before it counts as down")
                     .min(1)
                     .max(60000)
                     .fallback("200ms"),
                 sdk::duration("retry_interval")
                     .describe("While Redis is down, how often a connection is tried again")
                     .min(10)
                     .max(60000)
                     .fallback("500ms"),
                 sdk::integer("max_local_keys")
                     .describe("Keys the local fallback counter tracks (failure_mode = open)")
                     .min(64)
                     .fallback(100000)})};
  }

  void init(portico::Host& host) override {
    const nlohmann::json& config = host.config();
    rr::LimiterSettings settings;
    std::string error;
    const std::string url = config.value("url", std::string("redis://127.0.0.1:6379/0"));
    auto address = rr::parse_redis_url(url, error);
    if (!address) throw std::runtime_error("plugins.ratelimit_redis.url: " + error);
    settings.redis.address = std::move(*address);
    settings.redis.connect_timeout =
        std::chrono::milliseconds(config.value("connect_timeout", std::int64_t{200}));
    settings.redis.command_timeout =
        std::chrono::milliseconds(config.value("command_timeout", std::int64_t{200}));
    settings.redis.retry_interval =
        std::chrono::milliseconds(config.value("retry_interval", std::int64_t{500}));
    settings.key_prefix = config.value("key_prefix", std::string("portico:rl:"));
    settings.failure_mode = config.value("failure_mode", std::string("closed")) == "open"
                                ? rr::FailureMode::open
                                : rr::FailureMode::closed;
    settings.max_local_keys = config.value("max_local_keys", std::size_t{100000});
    limiter_ = std::make_unique<rr::RedisLimiter>(std::move(settings), &host.log());
  }

  portico::RateLimitPolicy* ratelimit() override { return limiter_.get(); }

 private:
  std::unique_ptr<rr::RedisLimiter> limiter_;
};

}  // namespace

PORTICO_PLUGIN(RedisRateLimitPlugin);
