// ratelimit_token_bucket: a token bucket (GCRA) rate-limit policy. Metadata, schema and the
// factory; the algorithm lives in gcra.hpp.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "gcra.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/schema.hpp"

namespace {

namespace rl = portico::ratelimit_token_bucket;

class TokenBucketPlugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "ratelimit_token_bucket";
  static constexpr const char* kVersion = "1.1.0";

  portico::PluginInfo info() const override {
    namespace sdk = portico::sdk;
    return {.name = kName,
            .version = kVersion,
            .description = "Token bucket rate limiting (GCRA) with a burst allowance",
            .priority = 50,
            .kinds = {portico::PluginKind::ratelimit},
            .schema = sdk::schema(
                {sdk::integer("max_keys")
                     .describe("Most keys tracked at once; beyond it the fullest buckets are "
                               "forgotten")
                     .min(64)
                     .fallback(rl::kDefaultMaxKeys),
                 sdk::integer("burst")
                     .describe("Extra requests a full bucket holds beyond the tier's limit, "
                               "when the tier sets no burst of its own")
                     .min(0)
                     .fallback(0)})};
  }
  void init(portico::Host& host) override {
    const nlohmann::json& config = host.config();
    limiter_ = std::make_unique<rl::TokenBucketLimiter>(
        config.value("max_keys", rl::kDefaultMaxKeys), config.value("burst", std::int64_t{0}));
  }
  portico::RateLimitPolicy* ratelimit() override { return limiter_.get(); }

 private:
  std::unique_ptr<rl::TokenBucketLimiter> limiter_ = std::make_unique<rl::TokenBucketLimiter>();
};

}  // namespace

PORTICO_PLUGIN(TokenBucketPlugin);
