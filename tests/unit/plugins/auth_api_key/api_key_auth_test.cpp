// auth_api_key's decisions with the SDK FakeHost: not mine without the header; the same 401 for
// malformed, unknown, revoked, expired and disabled; an Identity and a recorded use otherwise.
#include <gtest/gtest.h>

#include "plugins/auth_api_key/api_key_auth.hpp"
#include "portico/sdk/testing.hpp"

namespace portico::auth_api_key {
namespace {

using Outcome = AuthResult::Outcome;

const std::string kKey = "pk_live_4eC39HqLyjWDarjtT1zdp7dc4eC39HqL";
const std::string kTestKey = "pk_test_0123456789ABCDEFGHIJabcdefghijXY";

class ApiKeyAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host.fake_credentials().add(kKey, record("key_live1"));
    host.fake_credentials().add(kTestKey, record("key_test1"));
  }

  ApiKeyRecord record(std::string key_id) {
    ApiKeyRecord r;
    r.key_id = std::move(key_id);
    r.prefix = "pk_live_4eC3";
    r.partner_id = "ptr_acme";
    r.partner_status = "active";
    r.tier = "premium";
    r.rate_limit_override = 1500;
    r.scopes = {"orders:read", "usage:read"};
    r.allowed_cidrs = {"203.0.113.0/24"};
    return r;
  }

  static Request with_key(std::string key, std::string header = "X-API-Key") {
    Request request;
    request.method = "GET";
    request.path = "/v1/orders";
    request.headers.emplace_back(std::move(header), std::move(key));
    return request;
  }

  void expect_uniform_401(const AuthResult& result) {
    ASSERT_EQ(result.outcome, Outcome::rejected);
    EXPECT_EQ(result.identity, nullptr);
    ASSERT_NE(result.problem, nullptr);
    EXPECT_EQ(result.problem->status, 401);
    EXPECT_EQ(result.problem->code, "unauthorized");
    EXPECT_EQ(result.problem->detail, "The API key is missing, invalid, expired or revoked.");
    ASSERT_EQ(result.problem->headers.size(), 1u);
    EXPECT_EQ(result.problem->headers[0].first, "WWW-Authenticate");
    EXPECT_EQ(result.problem->headers[0].second, "ApiKey header=\"X-API-Key\"");
    EXPECT_TRUE(host.fake_credentials().used.empty()) << "a refused key is not a use";
  }

  sdk::testing::FakeHost host{"auth_api_key", {{"header", "X-API-Key"}}};
  ApiKeyAuth auth{host, "X-API-Key"};
};

TEST_F(ApiKeyAuthTest, WithoutTheHeaderTheRequestIsNotMine) {
  Request request;
  request.headers.emplace_back("Authorization", "Bearer abc");
  EXPECT_EQ(auth.authenticate(request).outcome, Outcome::not_mine);
}

TEST_F(ApiKeyAuthTest, AValidKeyAuthenticatesWithTheFullIdentity) {
  auto result = auth.authenticate(with_key(kKey));
  ASSERT_EQ(result.outcome, Outcome::authenticated);
  ASSERT_TRUE(result.identity);
  const Identity& who = *result.identity;
  EXPECT_EQ(who.partner_id, "ptr_acme");
  EXPECT_EQ(who.credential_id, "key_live1");
  EXPECT_EQ(who.scheme, "api_key");
  EXPECT_EQ(who.tier, "premium");
  EXPECT_EQ(who.rate_limit_override, 1500);
  EXPECT_EQ(who.scopes, (std::vector<std::string>{"orders:read", "usage:read"}));
  EXPECT_EQ(who.allowed_cidrs, (std::vector<std::string>{"203.0.113.0/24"}));
  EXPECT_EQ(host.fake_credentials().used, (std::vector<std::string>{"key_live1"}));
}

TEST_F(ApiKeyAuthTest, HeaderNameIsCaseInsensitiveAndTestKeysWork) {
  auto result = auth.authenticate(with_key(kTestKey, "x-api-key"));
  ASSERT_EQ(result.outcome, Outcome::authenticated);
  EXPECT_EQ(result.identity->credential_id, "key_test1");
}

// Every answer is from memory: authenticate_now (API 3.2) always answers, as authenticate() does.
TEST_F(ApiKeyAuthTest, AnswersNowAsAuthenticateDoes) {
  auto now = auth.authenticate_now(with_key(kKey));
  ASSERT_TRUE(now);
  ASSERT_EQ(now->outcome, Outcome::authenticated);
  EXPECT_EQ(now->identity->credential_id, "key_live1");
  auto refused = auth.authenticate_now(with_key("pk_live_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->outcome, Outcome::rejected);
  auto not_mine = auth.authenticate_now(Request{});
  ASSERT_TRUE(not_mine);
  EXPECT_EQ(not_mine->outcome, Outcome::not_mine);
}

TEST_F(ApiKeyAuthTest, UnknownKeyIsRefused) {
  expect_uniform_401(auth.authenticate(with_key("pk_live_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ")));
}

TEST_F(ApiKeyAuthTest, MalformedKeysAreRefusedWithoutALookup) {
  // Planted in the directory, so only the shape check can refuse them.
  for (const std::string& bad : std::vector<std::string>{
           "", "pk_live_short", kKey + "x", "sk_live_" + kKey.substr(8),
           "pk_prod_" + kKey.substr(8), "pk_live_4eC39HqLyjWDarjtT1zdp7dc4eC39Hq-",
           std::string(" ") + kKey}) {
    host.fake_credentials().add(bad, record("key_planted"));
    expect_uniform_401(auth.authenticate(with_key(bad)));
  }
}

// The shape check reads every character of the random part through one table: each byte value,
// at each place, is accepted exactly when it is a base62 character.
TEST(ApiKeyShape, EveryByteAtEveryPlaceIsJudgedByBase62) {
  const std::string good = "pk_test_" + std::string(32, 'a');
  ASSERT_TRUE(is_well_formed(good));
  for (int c = 0; c < 256; ++c) {
    const bool base62 = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    for (std::size_t at = 8; at < good.size(); ++at) {
      std::string key = good;
      key[at] = static_cast<char>(c);
      EXPECT_EQ(is_well_formed(key), base62) << "byte " << c << " at " << at;
    }
  }
}

TEST_F(ApiKeyAuthTest, RevokedKeyIsRefused) {
  auto r = record("key_live1");
  r.revoked = true;
  host.fake_credentials().add(kKey, r);
  expect_uniform_401(auth.authenticate(with_key(kKey)));
}

TEST_F(ApiKeyAuthTest, DisabledPartnerIsRefused) {
  auto r = record("key_live1");
  r.partner_status = "disabled";
  host.fake_credentials().add(kKey, r);
  expect_uniform_401(auth.authenticate(with_key(kKey)));
}

TEST_F(ApiKeyAuthTest, KeyIsValidUntilItsExpiryByTheHostClock) {
  auto r = record("key_live1");
  r.expires_at = host.now() + std::chrono::seconds(10);
  host.fake_credentials().add(kKey, r);
  host.advance(std::chrono::milliseconds(9999));
  EXPECT_EQ(auth.authenticate(with_key(kKey)).outcome, Outcome::authenticated);
  host.fake_credentials().used.clear();
  host.advance(std::chrono::milliseconds(1));
  expect_uniform_401(auth.authenticate(with_key(kKey)));
}

TEST_F(ApiKeyAuthTest, AConfiguredHeaderIsReadAndNamedInTheChallenge) {
  ApiKeyAuth custom(host, "X-Partner-Key");
  EXPECT_EQ(custom.authenticate(with_key(kKey)).outcome, Outcome::not_mine);
  EXPECT_EQ(custom.authenticate(with_key(kKey, "X-Partner-Key")).outcome, Outcome::authenticated);
  auto refused = custom.authenticate(with_key("nope", "X-Partner-Key"));
  ASSERT_EQ(refused.outcome, Outcome::rejected);
  ASSERT_NE(refused.problem, nullptr);
  EXPECT_EQ(refused.problem->headers[0].second, "ApiKey header=\"X-Partner-Key\"");
  // Every refusal hands out the one problem made with the scheme: nothing is copied per request.
  EXPECT_EQ(custom.authenticate(with_key("other", "X-Partner-Key")).problem, refused.problem);
}

}  // namespace
}  // namespace portico::auth_api_key
