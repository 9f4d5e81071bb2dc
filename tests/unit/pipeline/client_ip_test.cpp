#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>

#include "core/pipeline/cidr.hpp"
#include "core/pipeline/snapshot.hpp"
#include "core/pipeline/stages.hpp"

namespace portico::pipeline {
namespace {

std::vector<Cidr> proxies(std::vector<std::string> entries) {
  return parse_trusted_proxies(entries);
}

HeaderList xff(std::string value) {
  return {{"X-Forwarded-For", std::move(value)}};
}

TEST(ResolveClientIp, WithoutTrustedProxiesTheHeaderIsIgnored) {
  EXPECT_EQ(resolve_client_ip("198.51.100.7", xff("203.0.113.9"), {}), "198.51.100.7");
}

TEST(ResolveClientIp, UntrustedPeerCannotForgeItsAddress) {
  auto trusted = proxies({"10.0.0.0/8"});
  EXPECT_EQ(resolve_client_ip("198.51.100.7", xff("203.0.113.9"), trusted), "198.51.100.7");
}

TEST(ResolveClientIp, TrustedIpv4ProxyGivesTheForwardedAddress) {
  auto trusted = proxies({"10.0.0.0/8"});
  EXPECT_EQ(resolve_client_ip("10.0.0.5", xff("203.0.113.9"), trusted), "203.0.113.9");
}

TEST(ResolveClientIp, TrustedIpv6ProxyGivesTheForwardedAddress) {
  auto trusted = proxies({"2001:db8:1::/48"});
  EXPECT_EQ(resolve_client_ip("2001:db8:1::10", xff("2001:db8:9::1"), trusted), "2001:db8:9::1");
  EXPECT_EQ(resolve_client_ip("2001:db8:1::10", xff("[2001:db8:9::1]:5555"), trusted),
            "2001:db8:9::1");
  EXPECT_EQ(resolve_client_ip("2001:db8:1::10", xff("203.0.113.9"), trusted), "203.0.113.9");
}

TEST(ResolveClientIp, ChainTakesTheRightMostUntrustedHop) {
  auto trusted = proxies({"10.0.0.0/8", "192.168.0.1"});
  // The client forged "1.1.1.1"; 203.0.113.9 is what our first trusted proxy saw.
  EXPECT_EQ(
      resolve_client_ip("10.0.0.5", xff("1.1.1.1, 203.0.113.9, 192.168.0.1, 10.9.9.9"), trusted),
      "203.0.113.9");
}

TEST(ResolveClientIp, RepeatedHeaderLinesFormOneList) {
  auto trusted = proxies({"10.0.0.0/8"});
  HeaderList headers = {{"X-Forwarded-For", "1.1.1.1, 203.0.113.9"},
                        {"x-forwarded-for", "10.1.1.1"}};
  EXPECT_EQ(resolve_client_ip("10.0.0.5", headers, trusted), "203.0.113.9");
}

TEST(ResolveClientIp, AllHopsTrustedGivesTheLeftMost) {
  auto trusted = proxies({"10.0.0.0/8"});
  EXPECT_EQ(resolve_client_ip("10.0.0.5", xff("10.3.3.3, 10.2.2.2"), trusted), "10.3.3.3");
}

TEST(ResolveClientIp, GarbageStopsTheWalkAtTheLastGoodHop) {
  auto trusted = proxies({"10.0.0.0/8"});
  EXPECT_EQ(resolve_client_ip("10.0.0.5", xff("203.0.113.9, garbage, 10.2.2.2"), trusted),
            "10.2.2.2");
  EXPECT_EQ(resolve_client_ip("10.0.0.5", xff("unknown"), trusted), "10.0.0.5");
  EXPECT_EQ(resolve_client_ip("10.0.0.5", {}, trusted), "10.0.0.5");
}

TEST(ResolveClientIp, MappedPeerMatchesIpv4ProxiesAndIsReportedAsIpv4) {
  auto trusted = proxies({"10.0.0.0/8"});
  EXPECT_EQ(resolve_client_ip("::ffff:10.0.0.5", xff("203.0.113.9"), trusted), "203.0.113.9");
  EXPECT_EQ(resolve_client_ip("::ffff:198.51.100.7", {}, {}), "198.51.100.7");
}

// The client IP stage leaves an address is_canonical_ipv4 accepts as it is: that must be exactly
// the text resolve_client_ip would write for it — every octet value in each place, random
// addresses, and near misses that must go through the parse.
TEST(CanonicalIpv4, IsExactlyTheTextThatParsesToItself) {
  auto resolves_to_itself = [](const std::string& text) {
    return resolve_client_ip(text, {}, {}) == text && parse_ip(text) && parse_ip(text)->v4;
  };
  for (int octet = 0; octet < 256; ++octet) {
    for (int place = 0; place < 4; ++place) {
      std::string parts[4] = {"1", "2", "3", "4"};
      parts[place] = std::to_string(octet);
      const std::string text = parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[3];
      EXPECT_TRUE(is_canonical_ipv4(text)) << text;
      EXPECT_TRUE(resolves_to_itself(text)) << text;
    }
  }
  std::mt19937 random(7);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const std::string alphabet = "0123456789.:x ";
    const std::size_t length = random() % 17;
    for (std::size_t k = 0; k < length; ++k) {
      text.push_back(alphabet[random() % (i % 2 ? 11 : alphabet.size())]);
    }
    if (is_canonical_ipv4(text)) {
      EXPECT_TRUE(resolves_to_itself(text)) << text;
    }
  }
  for (const char* near : {"01.2.3.4", "1.2.3", "1.2.3.4.", ".1.2.3.4", "256.1.1.1", "1.2.3.4 ",
                           " 1.2.3.4", "1..2.3", "1.2.3.0004", "::ffff:1.2.3.4", "1.2.3.4:80", "",
                           "1000.1.1.1", "1.2.3.-4"}) {
    EXPECT_FALSE(is_canonical_ipv4(near)) << near;
  }
}

TEST(ParseTrustedProxies, NamesTheBadEntry) {
  try {
    proxies({"10.0.0.0/8", "10.0.0.0/33"});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "server.trusted_proxies: '10.0.0.0/33' is not an IPv4/IPv6 address or CIDR");
  }
}

TEST(StandardStages, RefuseAConfigWithABadTrustedProxy) {
  config::Config config;
  config.server.trusted_proxies = {"proxy.local"};
  EXPECT_THROW(standard_stages(config), std::invalid_argument);
}

TEST(StandardStages, ClientIpStageUsesTheConfiguredProxies) {
  config::Config config;
  config.server.trusted_proxies = {"10.0.0.0/8"};
  Snapshot snapshot;
  snapshot.stages = standard_stages(config);
  std::string seen;
  Route route;
  route.method = "GET";
  route.path = "/ip";
  route.authenticated = false;
  route.handler = [&](const Request& r) {
    seen = r.client_ip;
    return Response::json(200, {});
  };
  snapshot.router.add(route, "test");

  Request request;
  request.method = "GET";
  request.path = "/ip";
  request.client_ip = "10.0.0.5";
  request.headers = xff("203.0.113.9");
  EXPECT_EQ(snapshot.handle(request).status, 200);
  EXPECT_EQ(seen, "203.0.113.9");
}

}  // namespace
}  // namespace portico::pipeline
