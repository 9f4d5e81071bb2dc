// The auth_api_key logic, header-only so its unit tests include it directly with the SDK's
// FakeHost: read the key header, check its shape, look it up, and answer not-mine /
// authenticated / rejected. Every failure gets the same 401, so callers cannot probe keys.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "portico/host.hpp"
#include "portico/plugin.hpp"

namespace portico::auth_api_key {

inline constexpr std::string_view kLivePrefix = "pk_live_";
inline constexpr std::string_view kTestPrefix = "pk_test_";
inline constexpr std::size_t kRandomChars = 32;

// "pk_live_"/"pk_test_" + 32 base62 characters; anything else is refused without a lookup.
inline bool is_well_formed(std::string_view key) {
  static constexpr auto kBase62 = [] {
    std::array<bool, 256> table{};
    for (int c = 0; c < 256; ++c) {
      table[c] = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }
    return table;
  }();
  if (key.size() != kLivePrefix.size() + kRandomChars) return false;
  if (!key.starts_with(kLivePrefix) && !key.starts_with(kTestPrefix)) return false;
  bool base62 = true;  // every character looked at: one table read each, no early branch
  for (char c : key.substr(kLivePrefix.size())) base62 &= kBase62[static_cast<unsigned char>(c)];
  return base62;
}

class ApiKeyAuth final : public AuthScheme {
 public:
  ApiKeyAuth(Host& host, std::string header)
      : host_(host), header_(std::move(header)), refusal_(refusal_for(header_)) {}

  AuthResult authenticate(const Request& request) override {
    auto presented = request.header(header_);
    if (!presented) return AuthResult::not_mine();
    if (!is_well_formed(*presented)) return reject();
    // The directory's own identity for the key (API 2.1): shared, nothing copied per request.
    ApiKeyIdentity match = host_.credentials().find_api_key_identity(*presented);
    if (!match.identity || match.revoked || !match.partner_active) return reject();
    if (match.expires_at && host_.now() >= *match.expires_at) return reject();
    host_.credentials().record_use(match.identity->credential_id);
    return AuthResult::authenticated(std::move(match.identity));
  }

  // Every answer is from memory (the key directory): given now, with no completion (API 3.2).
  std::optional<AuthResult> authenticate_now(const Request& request) override {
    return authenticate(request);
  }

 private:
  // The one refusal, made with the scheme and shared by every rejected request (API 3.0): a flood
  // of bad keys costs no copy of it.
  static std::shared_ptr<const Problem> refusal_for(const std::string& header) {
    Problem problem;
    problem.status = 401;
    problem.code = "unauthorized";
    problem.title = "Unauthorized";
    problem.detail = "The API key is missing, invalid, expired or revoked.";
    problem.headers.emplace_back("WWW-Authenticate", "ApiKey header=\"" + header + "\"");
    return std::make_shared<const Problem>(std::move(problem));
  }
  AuthResult reject() const { return AuthResult::rejected(refusal_); }

  Host& host_;
  std::string header_;
  std::shared_ptr<const Problem> refusal_;
};

}  // namespace portico::auth_api_key
