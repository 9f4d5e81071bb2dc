// auth_api_key: authenticates partners by the X-API-Key header against the core's key directory.
// Metadata, schema and factory; the logic lives in api_key_auth.hpp.
#include <memory>
#include <string>

#include "api_key_auth.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/schema.hpp"

namespace {

class AuthApiKeyPlugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "auth_api_key";
  static constexpr const char* kVersion = "1.0.0";

  portico::PluginInfo info() const override {
    namespace sdk = portico::sdk;
    return {.name = kName,
            .version = kVersion,
            .description = "API keys (pk_live_/pk_test_) in the X-API-Key header",
            .priority = 1000,
            .kinds = {portico::PluginKind::auth},
            .schema = sdk::schema({sdk::string("header")
                                       .describe("Request header that carries the API key")
                                       .fallback("X-API-Key")})};
  }
  void init(portico::Host& host) override {
    auth_ = std::make_unique<portico::auth_api_key::ApiKeyAuth>(
        host, host.config().at("header").get<std::string>());
  }
  portico::AuthScheme* auth() override { return auth_.get(); }

 private:
  std::unique_ptr<portico::auth_api_key::ApiKeyAuth> auth_;
};

}  // namespace

PORTICO_PLUGIN(AuthApiKeyPlugin);
