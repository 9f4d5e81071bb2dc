// The stages after authentication: IP allow-list, tier rate limit (with a fake policy), and the
// usage report of Snapshot::handle.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/pipeline/snapshot.hpp"

namespace portico::pipeline {
namespace {

using namespace std::chrono_literals;

// A tier name no operator should write, to show how the rate limit's lines carry it.
const std::string kOddTier = "o\"d\\\r\nX-Evil: 1";

class TableAuth final : public AuthScheme {
 public:
  AuthResult authenticate(const Request& request) override {
    auto key = request.header("X-API-Key");
    if (!key) return AuthResult::not_mine();
    auto who = std::make_shared<Identity>();
    who->partner_id = "ptr_" + std::string(*key);
    who->tier = "basic";
    who->scopes = {"products:read"};
    if (*key == "premium") who->tier = "premium";
    if (*key == "gold") who->tier = "gold";
    if (*key == "odd") who->tier = kOddTier;
    if (*key == "override") who->rate_limit_override = 5;
    if (*key == "listed") who->allowed_cidrs = {"10.0.0.0/8", "2001:db8::/32"};
    if (*key == "broken_list") who->allowed_cidrs = {"not-a-cidr"};
    return AuthResult::authenticated(who);
  }
};

class FakePolicy final : public RateLimitPolicy {
 public:
  struct Call {
    std::string key;
    RateLimitQuota quota;
    std::chrono::system_clock::time_point now;
  };
  RateLimitDecision next{true, 100, 99, 60s, 0ms};
  std::vector<Call> calls;
  RateLimitDecision acquire(std::string_view key, const RateLimitQuota& quota,
                            std::chrono::system_clock::time_point now) override {
    calls.push_back({std::string(key), quota, now});
    return next;
  }
};

class RecordingSink final : public UsageSink {
 public:
  struct Entry {
    std::string partner_id, route;
    int status;
    bool rate_limited;
  };
  std::vector<Entry> entries;
  void record(const std::string& partner_id, std::string_view route, int status,
              bool rate_limited) override {
    entries.push_back({partner_id, std::string(route), status, rate_limited});
  }
};

Route make(std::string method, std::string path, std::string scope, bool authenticated) {
  Route r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.scope = std::move(scope);
  r.authenticated = authenticated;
  r.handler = [](const Request& req) { return Response::json(200, {{"ip", req.client_ip}}); };
  return r;
}

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

struct AccessPipeline : ::testing::Test {
  TableAuth auth;
  FakePolicy policy;
  std::shared_ptr<RecordingSink> usage = std::make_shared<RecordingSink>();
  std::vector<std::string> warnings;
  Snapshot snapshot;
  int handled = 0;

  void SetUp() override {
    auto config = std::make_shared<config::Config>();
    config->tiers["basic"] = {"basic", 100, 60s, 0};
    config->tiers["premium"] = {"premium", 1000, 60s, 50};
    config->tiers[kOddTier] = {kOddTier, 7, 90s, 0};
    snapshot.config = config;
    snapshot.stages = standard_stages(*config);
    snapshot.auth_schemes.push_back(&auth);
    snapshot.ratelimit = &policy;
    snapshot.usage = usage;
    snapshot.clock = [] { return kNow; };
    snapshot.on_warning = [this](std::string_view w) { warnings.emplace_back(w); };
    Route thing = make("GET", "/v1/things/{id}", "products:read", true);
    thing.handler = [this](const Request& r) {
      ++handled;
      return Response::json(200, {{"ip", r.client_ip}});
    };
    snapshot.router.add(thing, "test");
    snapshot.router.add(make("POST", "/v1/things", "orders:write", true), "test");
    snapshot.router.add(make("GET", "/open", "", false), "test");
    Route own = make("GET", "/v1/own-headers", "products:read", true);
    own.handler = [](const Request&) {
      Response response = Response::json(200, {{"ok", true}});
      response.set_header("X-Request-Id", "the-handlers-own");
      response.set_header("x-ratelimit-limit", "7");
      response.set_header("RateLimit", "made-up");
      response.set_header("X-Handler", "kept");
      return response;
    };
    snapshot.router.add(own, "test");
  }
  Response call(std::string key, std::string ip = "192.0.2.1", std::string method = "GET",
                std::string path = "/v1/things/t1") {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.client_ip = std::move(ip);
    if (!key.empty()) r.headers.emplace_back("X-API-Key", key);
    return snapshot.handle(r);
  }
};

std::string code_of(const Response& response) {
  return nlohmann::json::parse(response.body)["code"].get<std::string>();
}

// Without trusted proxies the client is the peer, written canonically; an IPv4 address already in
// that form (remembered per thread once checked) is left as it is.
TEST_F(AccessPipeline, TheClientIpReachesTheHandlerCanonically) {
  const std::pair<std::string, std::string> calls[] = {
      {"192.0.2.1", "192.0.2.1"},
      {"192.0.2.1", "192.0.2.1"},
      {"2001:DB8::1", "2001:db8::1"},
      {"192.0.2.10", "192.0.2.10"},
      {"192.0.2.1", "192.0.2.1"},
      {"2001:0db8:0::0001", "2001:db8::1"},
      {"::ffff:192.0.2.1", "192.0.2.1"},
      {"192.0.2.10", "192.0.2.10"},
      {"", ""},
  };
  for (const auto& [peer, seen] : calls) {
    const Response res = call("acme", peer);
    ASSERT_EQ(res.status, 200) << peer << " " << res.body;
    EXPECT_EQ(nlohmann::json::parse(res.body)["ip"], seen) << peer;
  }
}

TEST_F(AccessPipeline, AllowListAdmitsIpv4AndIpv6InsideAndRefusesOutside) {
  EXPECT_EQ(call("listed", "10.20.30.40").status, 200);
  EXPECT_EQ(call("listed", "::ffff:10.20.30.40").status, 200);
  EXPECT_EQ(call("listed", "2001:db8:5::1").status, 200);
  EXPECT_EQ(policy.calls.size(), 3u);

  Response refused = call("listed", "192.0.2.1");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(code_of(refused), "ip_not_allowed");
  EXPECT_EQ(nlohmann::json::parse(refused.body)["detail"],
            "Requests from 192.0.2.1 are not in your account's IP allow-list.");
  EXPECT_EQ(call("listed", "2001:db9::1").status, 403);
  EXPECT_EQ(call("listed", "").status, 403);
  // Refused before the rate limit: no quota spent, no headers.
  EXPECT_EQ(policy.calls.size(), 3u);
  EXPECT_FALSE(refused.header("RateLimit").has_value());
}

TEST_F(AccessPipeline, EmptyAllowListAdmitsAnyAddressAndAMalformedOneNone) {
  EXPECT_EQ(call("any", "198.51.100.1").status, 200);
  EXPECT_EQ(call("broken_list", "198.51.100.1").status, 403);
}

TEST_F(AccessPipeline, RateLimitHeadersCarryTheExactValues) {
  policy.next = {true, 100, 57, 42100ms, 0ms};
  Response res = call("acme");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("RateLimit-Policy"), "\"basic\";q=100;w=60");
  EXPECT_EQ(res.header("RateLimit"), "\"basic\";r=57;t=43");
  EXPECT_EQ(res.header("X-RateLimit-Limit"), "100");
  EXPECT_EQ(res.header("X-RateLimit-Remaining"), "57");
  EXPECT_EQ(res.header("X-RateLimit-Reset"), "43");
  ASSERT_EQ(policy.calls.size(), 1u);
  EXPECT_EQ(policy.calls[0].key, "ptr_acme");
  EXPECT_EQ(policy.calls[0].quota.tier, "basic");
  EXPECT_EQ(policy.calls[0].quota.limit, 100);
  EXPECT_EQ(policy.calls[0].quota.window, 60s);
  EXPECT_EQ(policy.calls[0].now, kNow);
}

TEST_F(AccessPipeline, OverTheLimitIs429WithRetryAfterAndTheHeaders) {
  policy.next = {false, 100, 0, 59500ms, 2300ms};
  Response res = call("acme");
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(handled, 0);
  EXPECT_EQ(res.content_type, "application/problem+json");
  EXPECT_EQ(res.header("Retry-After"), "3");
  EXPECT_EQ(res.header("RateLimit"), "\"basic\";r=0;t=60");
  EXPECT_EQ(res.header("X-RateLimit-Remaining"), "0");
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["code"], "rate_limited");
  EXPECT_EQ(body["status"], 429);
  EXPECT_EQ(body["detail"],
            "Rate limit exceeded: tier 'basic' allows 100 requests per 60 seconds. Retry after 3 "
            "seconds.");
}

TEST_F(AccessPipeline, RetryAfterIsAtLeastOneSecond) {
  policy.next = {false, 100, 0, 0ms, 0ms};
  EXPECT_EQ(call("acme").header("Retry-After"), "1");
  policy.next = {false, 100, 0, 10ms, 10ms};
  EXPECT_EQ(call("acme").header("Retry-After"), "1");
}

// The gateway writes its own headers from the exchange's lines (HeaderLines, not
// Response::headers): a handler's header of one of those names gives way, and none appears twice.
TEST_F(AccessPipeline, TheGatewaysOwnHeadersReplaceAHandlersOfTheSameName) {
  policy.next = {true, 100, 57, 42100ms, 0ms};
  Request request;
  request.method = "GET";
  request.path = "/v1/own-headers";
  request.client_ip = "192.0.2.1";
  request.headers.emplace_back("X-API-Key", "acme");
  Response res = snapshot.handle(request);
  ASSERT_EQ(res.status, 200);
  auto count = [&](std::string_view name) {
    return std::count_if(res.headers.begin(), res.headers.end(),
                         [&](const auto& h) { return iequals(h.first, name); });
  };
  for (auto name : {"X-Request-Id", "X-RateLimit-Limit", "RateLimit", "RateLimit-Policy"}) {
    EXPECT_EQ(count(name), 1) << name;
  }
  EXPECT_EQ(res.header("X-Request-Id"), request.request_id);
  EXPECT_NE(request.request_id, "the-handlers-own");
  EXPECT_EQ(res.header("X-RateLimit-Limit"), "100");
  EXPECT_EQ(res.header("RateLimit"), "\"basic\";r=57;t=43");
  EXPECT_EQ(res.header("X-Handler"), "kept");
}

TEST_F(AccessPipeline, HeadersAreOnLaterErrorsToo) {
  policy.next = {true, 100, 12, 30s, 0ms};
  Response res = call("acme", "192.0.2.1", "POST", "/v1/things");
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(code_of(res), "insufficient_scope");
  EXPECT_EQ(res.header("RateLimit"), "\"basic\";r=12;t=30");
}

TEST_F(AccessPipeline, PremiumTierAndOverride) {
  policy.next = {true, 1000, 999, 60s, 0ms};
  Response res = call("premium");
  EXPECT_EQ(res.header("RateLimit-Policy"), "\"premium\";q=1000;w=60");
  EXPECT_EQ(policy.calls.back().quota.burst, 50);

  policy.next = {true, 5, 4, 60s, 0ms};
  res = call("override");
  EXPECT_EQ(policy.calls.back().quota.limit, 5);
  EXPECT_EQ(res.header("RateLimit-Policy"), "\"basic\";q=5;w=60");
  EXPECT_EQ(res.header("X-RateLimit-Limit"), "5");
}

// X-RateLimit-Limit is the limit the policy answers with (a burst-capable one may answer more
// than the quota), the quota's when it answers none; RateLimit-Policy always quotes the quota.
TEST_F(AccessPipeline, TheLimitShownIsThePolicysAnswer) {
  for (const std::int64_t answered : {1050, 0, 1000, 1050}) {
    policy.next = {true, answered, 999, 60s, 0ms};
    const Response res = call("premium");
    EXPECT_EQ(res.header("RateLimit-Policy"), "\"premium\";q=1000;w=60") << answered;
    EXPECT_EQ(res.header("X-RateLimit-Limit"), answered > 0 ? std::to_string(answered) : "1000");
    EXPECT_EQ(res.header("X-RateLimit-Remaining"), "999") << answered;
    EXPECT_EQ(res.header("X-RateLimit-Reset"), "60") << answered;
    EXPECT_EQ(res.header("RateLimit"), "\"premium\";r=999;t=60") << answered;
  }
}

// The lines that depend only on the quota are made once per quota and thread: each change of
// tier, of limit (a partner's override) or back shows the quota of the request at hand, and a
// tier's quote, backslash and line break are escaped or blanked as when they were made each time.
TEST_F(AccessPipeline, TheQuotaLinesFollowEveryChangeOfTierOrLimit) {
  struct Step {
    std::string key;
    std::int64_t limit;
    std::string policy;
    std::string rate;
  };
  const Step steps[] = {
      {"premium", 1000, "\"premium\";q=1000;w=60", "\"premium\";r=9;t=60"},
      {"override", 5, "\"basic\";q=5;w=60", "\"basic\";r=9;t=60"},
      {"acme", 100, "\"basic\";q=100;w=60", "\"basic\";r=9;t=60"},
      {"acme", 100, "\"basic\";q=100;w=60", "\"basic\";r=9;t=60"},
      {"odd", 7, "\"o\\\"d\\\\  X-Evil: 1\";q=7;w=90", "\"o\\\"d\\\\  X-Evil: 1\";r=9;t=60"},
      {"premium", 1000, "\"premium\";q=1000;w=60", "\"premium\";r=9;t=60"},
  };
  for (const Step& step : steps) {
    policy.next = {true, step.limit, 9, 60s, 0ms};
    const Response res = call(step.key);
    EXPECT_EQ(res.header("RateLimit-Policy"), step.policy) << step.key;
    EXPECT_EQ(res.header("RateLimit"), step.rate) << step.key;
    EXPECT_EQ(res.header("X-RateLimit-Limit"), std::to_string(step.limit)) << step.key;
    EXPECT_FALSE(res.header("X-Evil")) << step.key;
  }
}

TEST_F(AccessPipeline, UnknownTierIsLimitedAsBasicAndWarnedOnce) {
  EXPECT_EQ(call("gold").status, 200);
  EXPECT_EQ(call("gold").status, 200);
  EXPECT_EQ(policy.calls.back().quota.tier, "basic");
  EXPECT_EQ(policy.calls.back().quota.limit, 100);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "partner ptr_gold has tier 'gold', which is not configured in [tiers]; limiting it "
            "as 'basic'");
}

TEST_F(AccessPipeline, NoPolicyOrNoIdentityMeansNoLimitAndNoHeaders) {
  EXPECT_FALSE(call("", "192.0.2.1", "GET", "/open").header("RateLimit").has_value());
  EXPECT_TRUE(policy.calls.empty());
  snapshot.ratelimit = nullptr;
  Response res = call("acme");
  EXPECT_EQ(res.status, 200);
  EXPECT_FALSE(res.header("RateLimit-Policy").has_value());
}

TEST_F(AccessPipeline, UsageIsReportedForAuthenticatedPartnersOnly) {
  call("acme");
  policy.next = {false, 100, 0, 60s, 1s};
  call("acme");
  policy.next = {true, 100, 5, 60s, 0ms};
  call("acme", "192.0.2.1", "POST", "/v1/things");  // 403 scope
  call("listed", "192.0.2.1");                      // 403 allow-list
  call("", "192.0.2.1", "GET", "/open");            // public: no partner
  call("", "192.0.2.1");                            // 401: no partner
  call("acme", "192.0.2.1", "GET", "/v2/none");     // 404: no route, no partner yet

  ASSERT_EQ(usage->entries.size(), 4u);
  EXPECT_EQ(usage->entries[0].partner_id, "ptr_acme");
  EXPECT_EQ(usage->entries[0].route, "GET /v1/things/{id}");
  EXPECT_EQ(usage->entries[0].status, 200);
  EXPECT_FALSE(usage->entries[0].rate_limited);
  EXPECT_EQ(usage->entries[1].status, 429);
  EXPECT_TRUE(usage->entries[1].rate_limited);
  EXPECT_EQ(usage->entries[2].route, "POST /v1/things");
  EXPECT_EQ(usage->entries[2].status, 403);
  EXPECT_FALSE(usage->entries[2].rate_limited);
  EXPECT_EQ(usage->entries[3].partner_id, "ptr_listed");
  EXPECT_EQ(usage->entries[3].status, 403);
}

TEST_F(AccessPipeline, HandlerFailuresAreReportedAs5xx) {
  Route boom = make("GET", "/v1/boom", "", true);
  boom.handler = [](const Request&) -> Response { throw std::runtime_error("kaput"); };
  snapshot.router.add(boom, "test");
  EXPECT_EQ(call("acme", "192.0.2.1", "GET", "/v1/boom").status, 500);
  ASSERT_EQ(usage->entries.size(), 1u);
  EXPECT_EQ(usage->entries[0].route, "GET /v1/boom");
  EXPECT_EQ(usage->entries[0].status, 500);
}

}  // namespace
}  // namespace portico::pipeline
