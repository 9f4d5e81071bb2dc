// ratelimit_sliding_window: the default rate-limit policy. Metadata, schema and the factory; the
// counting lives in plugins/ratelimit_common/sliding_window.hpp.
#include <cstddef>
#include <memory>

#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/schema.hpp"
#include "plugins/ratelimit_common/sliding_window.hpp"

namespace {

namespace rl = portico::ratelimit_sliding_window;

class SlidingWindowPlugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "ratelimit_sliding_window";
  static constexpr const char* kVersion = "1.1.0";

  portico::PluginInfo info() const override {
    namespace sdk = portico::sdk;
    return {.name = kName,
            .version = kVersion,
            .description = "Sliding-window counter rate limiting (the default policy)",
            .priority = 100,
            .kinds = {portico::PluginKind::ratelimit},
            .schema = sdk::schema({sdk::integer("max_keys")
                                       .describe("Most keys tracked at once; beyond it the least "
                                                 "recently used are forgotten")
                                       .min(64)
                                       .fallback(rl::kDefaultMaxKeys)})};
  }
  void init(portico::Host& host) override {
    limiter_ = std::make_unique<rl::SlidingWindowLimiter>(
        host.config().value("max_keys", rl::kDefaultMaxKeys));
  }
  portico::RateLimitPolicy* ratelimit() override { return limiter_.get(); }

 private:
  std::unique_ptr<rl::SlidingWindowLimiter> limiter_ = std::make_unique<rl::SlidingWindowLimiter>();
};

}  // namespace

PORTICO_PLUGIN(SlidingWindowPlugin);
