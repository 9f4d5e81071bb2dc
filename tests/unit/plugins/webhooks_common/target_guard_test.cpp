// The SSRF guard: URL parsing (what an endpoint may point at), address classes for IPv4 and IPv6
// literals (including IPv4 hidden inside IPv6), and resolution refusing names like "localhost".
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "webhooks_common/target_guard.hpp"

namespace {

using namespace portico::webhooks;

Target parsed(std::string_view url) {
  TargetParse result = parse_target(url);
  EXPECT_TRUE(result) << url << ": " << result.error;
  return result.target.value_or(Target{});
}

std::string refusal(std::string_view url) {
  TargetParse result = parse_target(url);
  EXPECT_FALSE(result) << url << " was accepted";
  return result.error;
}

TEST(ParseTarget, TakesGoodUrlsApart) {
  Target t = parsed("https://hooks.example.com/portico/events?tenant=7&x=%20y");
  EXPECT_EQ(t.scheme, "https");
  EXPECT_EQ(t.host, "hooks.example.com");
  EXPECT_EQ(t.port, 443);
  EXPECT_EQ(t.target, "/portico/events?tenant=7&x=%20y");
  EXPECT_FALSE(t.host_is_ip);
  EXPECT_TRUE(t.https());
  EXPECT_EQ(t.authority(), "hooks.example.com");

  t = parsed("http://Example.COM");
  EXPECT_EQ(t.scheme, "http");
  EXPECT_EQ(t.host, "example.com");
  EXPECT_EQ(t.port, 80);
  EXPECT_EQ(t.target, "/");
  EXPECT_EQ(t.url(), "http://example.com/");

  t = parsed("HTTPS://example.com:8443?a=1");
  EXPECT_EQ(t.scheme, "https");
  EXPECT_EQ(t.port, 8443);
  EXPECT_EQ(t.target, "/?a=1");
  EXPECT_EQ(t.authority(), "example.com:8443");
  EXPECT_EQ(t.url(), "https://example.com:8443/?a=1");

  t = parsed("http://example.com:80/x");
  EXPECT_EQ(t.authority(), "example.com");
  t = parsed("https://example.com:80/x");
  EXPECT_EQ(t.authority(), "example.com:80");
  t = parsed("http://example.com:65535/");
  EXPECT_EQ(t.port, 65535);
  t = parsed("http://example.com:1/");
  EXPECT_EQ(t.port, 1);

  t = parsed("http://203.0.113.9:8080/hook");
  EXPECT_EQ(t.host, "203.0.113.9");
  EXPECT_TRUE(t.host_is_ip);
  EXPECT_EQ(t.port, 8080);

  t = parsed("https://[2001:DB8:0:0::1]:9443/h");
  EXPECT_EQ(t.host, "2001:db8::1");
  EXPECT_TRUE(t.host_is_ip);
  EXPECT_EQ(t.port, 9443);
  EXPECT_EQ(t.authority(), "[2001:db8::1]:9443");
  EXPECT_EQ(t.url(), "https://[2001:db8::1]:9443/h");

  t = parsed("https://[::1]");
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, 443);
  EXPECT_EQ(t.target, "/");

  parsed("https://my_host.internal-example.com./x");  // underscore, trailing dot
  parsed("https://1e100.net/");
  parsed("https://localhost/");  // a fine URL: the address check refuses it
  parsed("http://127.0.0.1:9000/");
}

TEST(ParseTarget, RefusesBadUrlsSayingWhy) {
  EXPECT_EQ(refusal(""), "the URL is empty");
  EXPECT_NE(refusal("ftp://example.com/").find("http or https"), std::string::npos);
  EXPECT_NE(refusal("file:///etc/passwd").find("http or https"), std::string::npos);
  EXPECT_NE(refusal("gopher://example.com/").find("\"gopher\""), std::string::npos);
  EXPECT_NE(refusal("example.com/hook").find("absolute"), std::string::npos);
  EXPECT_NE(refusal("//example.com/hook").find("absolute"), std::string::npos);
  EXPECT_NE(refusal("https:example.com").find("absolute"), std::string::npos);
  EXPECT_NE(refusal("https://user:pw@example.com/").find("credentials"), std::string::npos);
  EXPECT_NE(refusal("https://user@example.com/").find("credentials"), std::string::npos);
  EXPECT_NE(refusal("https://example.com@127.0.0.1/").find("credentials"), std::string::npos);
  EXPECT_NE(refusal("https://example.com/hook#frag").find("fragment"), std::string::npos);
  EXPECT_NE(refusal("https:///hook").find("no host"), std::string::npos);
  EXPECT_NE(refusal("https://:443/hook").find("no host"), std::string::npos);
  EXPECT_NE(refusal("https://").find("no host"), std::string::npos);
  EXPECT_NE(refusal("https://example.com:0/").find("1 to 65535"), std::string::npos);
  EXPECT_NE(refusal("https://example.com:65536/").find("1 to 65535"), std::string::npos);
  EXPECT_NE(refusal("https://example.com:999999/").find("1 to 65535"), std::string::npos);
  EXPECT_NE(refusal("https://example.com:-1/").find("port"), std::string::npos);
  EXPECT_NE(refusal("https://example.com:http/").find("port"), std::string::npos);
  EXPECT_NE(refusal("https://example.com:/").find("port"), std::string::npos);
  EXPECT_NE(refusal("https://exa mple.com/").find("whitespace"), std::string::npos);
  EXPECT_NE(refusal("https://example.com/a b").find("whitespace"), std::string::npos);
  EXPECT_NE(refusal("https://example.com/\n").find("whitespace"), std::string::npos);
  EXPECT_NE(refusal(std::string("https://example.com/\0", 21)).find("control"), std::string::npos);
  EXPECT_NE(refusal("https://example.com/\x7F").find("control"), std::string::npos);
  EXPECT_NE(refusal("https://b\xC3\xBC"
                    "cher.example/")
                .find("non-ASCII"),
            std::string::npos);
  EXPECT_NE(refusal("https://example.com\\@127.0.0.1/").find("backslash"), std::string::npos);
  EXPECT_NE(refusal("https://example.com/" + std::string(2048, 'a')).find("2048"),
            std::string::npos);
  parsed("https://example.com/" + std::string(2048 - 20, 'a'));  // exactly 2048
  // Hosts.
  EXPECT_NE(refusal("https://exa%6dple.com/").find("percent"), std::string::npos);
  EXPECT_NE(refusal("https://example..com/").find("empty label"), std::string::npos);
  EXPECT_NE(refusal("https://.example.com/").find("empty label"), std::string::npos);
  EXPECT_NE(refusal("https://exam!ple.com/").find("\"!\""), std::string::npos);
  EXPECT_NE(refusal("https://" + std::string(64, 'a') + ".com/").find("63"), std::string::npos);
  // IPv6 must be bracketed, well-formed, zone-free.
  EXPECT_NE(refusal("https://::1/").find("brackets"), std::string::npos);
  EXPECT_NE(refusal("https://2001:db8::1/").find("brackets"), std::string::npos);
  EXPECT_NE(refusal("https://[::1/").find("']'"), std::string::npos);
  EXPECT_NE(refusal("https://[fe80::1%25eth0]/").find("zone"), std::string::npos);
  EXPECT_NE(refusal("https://[1.2.3.4]/").find("IPv6"), std::string::npos);
  EXPECT_NE(refusal("https://[::1]x/").find("after the IPv6"), std::string::npos);
  // Numeric hosts that resolvers read in surprising ways.
  for (std::string_view url :
       {"http://127.1/", "http://2130706433/", "http://0x7f.0.0.1/", "http://0177.0.0.1/",
        "http://010.0.0.1/", "http://1.2.3.4./", "http://256.1.1.1/", "http://1.2.3.4.5/",
        "http://example.0x10/", "http://example.123/"}) {
    EXPECT_NE(refusal(url).find("not a valid IPv4 address"), std::string::npos) << url;
  }
}

struct Case {
  std::string_view ip;
  AddressClass kind;
};

void expect_classes(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const std::optional<AddressClass> kind = classify_address(c.ip);
    ASSERT_TRUE(kind.has_value()) << c.ip;
    EXPECT_EQ(to_string(*kind), to_string(c.kind)) << c.ip;
  }
}

TEST(ClassifyAddress, Ipv4) {
  using enum AddressClass;
  expect_classes({
      {"8.8.8.8", global},
      {"1.1.1.1", global},
      {"93.184.216.34", global},
      {"172.15.255.255", global},
      {"172.32.0.0", global},
      {"100.63.255.255", global},
      {"100.128.0.0", global},
      {"192.169.0.1", global},
      {"169.253.255.255", global},
      {"126.255.255.255", global},
      {"128.0.0.1", global},
      {"223.255.255.255", global},
      {"198.17.255.255", global},
      {"198.20.0.0", global},
      {"192.0.1.1", global},
      {"127.0.0.1", loopback},
      {"127.255.255.254", loopback},
      {"127.1.2.3", loopback},
      {"10.0.0.5", private_network},
      {"10.255.255.255", private_network},
      {"172.16.0.1", private_network},
      {"172.31.255.255", private_network},
      {"192.168.1.1", private_network},
      {"169.254.169.254", link_local},
      {"169.254.0.1", link_local},
      {"0.0.0.0", unspecified},
      {"224.0.0.1", multicast},
      {"239.255.255.250", multicast},
      {"0.1.2.3", reserved},
      {"100.64.0.1", reserved},
      {"100.127.255.255", reserved},
      {"192.0.0.8", reserved},
      {"192.0.2.10", reserved},
      {"198.51.100.7", reserved},
      {"203.0.113.9", reserved},
      {"198.18.0.1", reserved},
      {"198.19.255.255", reserved},
      {"192.88.99.1", reserved},
      {"240.0.0.1", reserved},
      {"255.255.255.255", reserved},
  });
}

TEST(ClassifyAddress, Ipv6) {
  using enum AddressClass;
  expect_classes({
      {"2606:4700:4700::1111", global},
      {"2001:4860:4860::8888", global},
      {"2a00:1450::1", global},
      {"3ffe::1", global},
      {"::1", loopback},
      {"::", unspecified},
      {"0:0:0:0:0:0:0:0", unspecified},
      {"fc00::1", private_network},
      {"fd12:3456:789a::1", private_network},
      {"fec0::1", private_network},
      {"feff::1", private_network},
      {"fe80::1", link_local},
      {"febf:ffff::1", link_local},
      {"ff02::1", multicast},
      {"ff05::1:3", multicast},
      {"100::1", reserved},
      {"2001:db8::1", reserved},
      {"2001::1", reserved},
      {"2001:10::1", reserved},
      {"3fff::1", reserved},
      {"5f00::1", reserved},
      {"64:ff9b:1::a00:1", reserved},
      {"4000::1", reserved},
      {"::2:0:0:1", reserved},
  });
}

TEST(ClassifyAddress, Ipv4InsideIpv6IsJudgedByTheIpv4Address) {
  using enum AddressClass;
  expect_classes({
      // IPv4-mapped
      {"::ffff:127.0.0.1", loopback},
      {"::ffff:7f00:1", loopback},
      {"::FFFF:10.1.2.3", private_network},
      {"::ffff:169.254.169.254", link_local},
      {"::ffff:0.0.0.0", unspecified},
      {"::ffff:8.8.8.8", global},
      {"0:0:0:0:0:ffff:c0a8:101", private_network},
      // IPv4-compatible (deprecated)
      {"::127.0.0.1", loopback},
      {"::10.0.0.1", private_network},
      {"::8.8.8.8", global},
      {"::0.0.0.2", reserved},
      // NAT64 well-known prefix
      {"64:ff9b::127.0.0.1", loopback},
      {"64:ff9b::a9fe:a9fe", link_local},
      {"64:ff9b::192.168.0.1", private_network},
      {"64:ff9b::8.8.8.8", global},
      // 6to4
      {"2002:7f00:1::", loopback},
      {"2002:a00:1::1", private_network},
      {"2002:808:808::1", global},
  });
}

TEST(ClassifyAddress, NonLiteralsAreNotAddresses) {
  for (std::string_view text : {"", "localhost", "example.com", "127.1", "[::1]", "::1%lo",
                                "1.2.3.4.5", " 1.2.3.4", "::ffff:1.2.3", "fe80::1%eth0"}) {
    EXPECT_FALSE(classify_address(text).has_value()) << text;
    EXPECT_FALSE(allowed_address(text, true)) << text;
  }
}

TEST(AllowedAddress, PublicOnlyUnlessPrivateTargetsAreAllowed) {
  for (std::string_view ip : {"8.8.8.8", "2606:4700:4700::1111", "::ffff:1.1.1.1"}) {
    EXPECT_TRUE(allowed_address(ip, false)) << ip;
    EXPECT_TRUE(allowed_address(ip, true)) << ip;
  }
  for (std::string_view ip :
       {"127.0.0.1", "::1", "10.0.0.5", "192.168.0.10", "172.20.0.3", "fd00::5", "169.254.169.254",
        "fe80::1", "100.64.1.1", "::ffff:127.0.0.1", "64:ff9b::10.0.0.1", "198.18.0.5"}) {
    EXPECT_FALSE(allowed_address(ip, false)) << ip;
    EXPECT_TRUE(allowed_address(ip, true)) << ip;
  }
  for (std::string_view ip : {"0.0.0.0", "::", "224.0.0.1", "ff02::1", "::ffff:0.0.0.0"}) {
    EXPECT_FALSE(allowed_address(ip, false)) << ip;
    EXPECT_FALSE(allowed_address(ip, true)) << ip;
  }
}

TEST(WhyRefused, NamesTheAddressAndItsClass) {
  EXPECT_EQ(why_refused("127.0.0.1", AddressClass::loopback), "127.0.0.1 is a loopback address");
  EXPECT_EQ(why_refused("10.0.0.5", AddressClass::private_network),
            "10.0.0.5 is a private address");
  EXPECT_EQ(why_refused("fe80::1", AddressClass::link_local), "fe80::1 is a link-local address");
  EXPECT_EQ(why_refused("0.0.0.0", AddressClass::unspecified),
            "0.0.0.0 is the unspecified address");

  EXPECT_EQ(address_refusal("example.internal", "10.0.0.5", false),
            "example.internal resolves to 10.0.0.5, a private address; webhook targets must be "
            "public (or set plugins.webhook_delivery.allow_private_targets = true)");
  EXPECT_EQ(address_refusal("127.0.0.1", "127.0.0.1", false),
            "127.0.0.1 is a loopback address; webhook targets must be public (or set "
            "plugins.webhook_delivery.allow_private_targets = true)");
  // Never allowed, so no hint about the setting.
  EXPECT_EQ(address_refusal("224.0.0.1", "224.0.0.1", true),
            "224.0.0.1 is a multicast address; webhook targets must be public");
  EXPECT_EQ(address_refusal("example.internal", "10.0.0.5", true), std::nullopt);
  EXPECT_EQ(address_refusal("example.com", "93.184.216.34", false), std::nullopt);
  EXPECT_TRUE(address_refusal("example.com", "not-an-ip", true).has_value());
}

// What a partner may read of a refusal: nothing about what the host resolves to, its class, or
// the operator's settings.
void expect_generic(const std::string& partner) {
  EXPECT_FALSE(partner.empty());
  for (std::string_view leak : {"127.0.0.1", "::1", "10.0.0", "169.254", "localhost", "loopback",
                                "private", "link-local", "allow_private_targets", "plugins."}) {
    EXPECT_EQ(partner.find(leak), std::string::npos) << leak << " in: " << partner;
  }
}

TEST(ResolveAndCheck, LocalhostIsRefused) {
  const Resolution r = resolve_and_check("localhost", 443, false);
  EXPECT_FALSE(r);
  ASSERT_FALSE(r.addresses.empty());
  // The operator's detail names the host, what it resolves to, and the setting.
  EXPECT_TRUE(r.detail.starts_with("localhost resolves to ")) << r.detail;
  EXPECT_NE(r.detail.find("a loopback address"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("allow_private_targets = true"), std::string::npos) << r.detail;
  // The partner's text is generic.
  EXPECT_EQ(r.partner, kPartnerNotPublicName);
  expect_generic(r.partner);
}

TEST(ResolveAndCheck, PartnersReadTheSameTextWhetherANameIsPrivateOrDoesNotResolve) {
  // Otherwise the difference would tell a partner which internal names exist.
  const Resolution missing = resolve_and_check("no-such-host.invalid", 443, false);
  EXPECT_FALSE(missing);
  EXPECT_NE(missing.detail.find("no-such-host.invalid"), std::string::npos) << missing.detail;
  if (missing.partner != kPartnerResolveLater) {  // a resolver that is down says "try again"
    EXPECT_EQ(missing.partner, resolve_and_check("localhost", 443, false).partner);
  }
  expect_generic(missing.partner);
}

TEST(ResolveAndCheck, RefusedLiteralsGetTheGenericTextToo) {
  for (const char* ip : {"127.0.0.1", "::1", "10.0.0.5", "169.254.169.254", "0.0.0.0",
                         "::ffff:127.0.0.1", "224.0.0.1"}) {
    const Resolution r = resolve_and_check(ip, 80, false);
    EXPECT_FALSE(r) << ip;
    EXPECT_NE(r.detail.find(ip), std::string::npos) << r.detail;
    EXPECT_EQ(r.partner, kPartnerNotPublicHost) << ip;
    expect_generic(r.partner);
  }
  EXPECT_TRUE(resolve_and_check("8.8.8.8", 443, false).partner.empty());
}

TEST(ResolveAndCheck, AllowPrivateLetsLocalTargetsThrough) {
  const Resolution r = resolve_and_check("localhost", 8080, true);
  EXPECT_TRUE(r) << r.detail;
  EXPECT_NE(std::find(r.addresses.begin(), r.addresses.end(), "127.0.0.1"), r.addresses.end());
  EXPECT_TRUE(resolve_and_check("127.0.0.1", 80, true));
  EXPECT_TRUE(resolve_and_check("::1", 80, true));
  EXPECT_TRUE(resolve_and_check("10.0.0.5", 80, true));
}

TEST(ResolveAndCheck, LiteralsAreCheckedWithoutDns) {
  Resolution r = resolve_and_check("127.0.0.1", 80, false);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_TRUE(r.detail.starts_with("127.0.0.1 is a loopback address; ")) << r.detail;

  r = resolve_and_check("::ffff:127.0.0.1", 80, false);
  EXPECT_FALSE(r);
  EXPECT_TRUE(r.detail.starts_with("::ffff:127.0.0.1 is a loopback address")) << r.detail;

  EXPECT_FALSE(resolve_and_check("169.254.169.254", 80, false));
  EXPECT_FALSE(resolve_and_check("0.0.0.0", 80, true));
  EXPECT_FALSE(resolve_and_check("", 80, true));

  r = resolve_and_check("8.8.8.8", 443, false);
  EXPECT_TRUE(r) << r.detail;
  EXPECT_EQ(r.addresses, std::vector<std::string>{"8.8.8.8"});
  EXPECT_TRUE(resolve_and_check("2606:4700:4700::1111", 443, false));
}

TEST(ResolveAndCheck, ResolverShorthandForLoopbackIsStillCaught) {
  // parse_target refuses "127.1", but a caller that skips it still gets the resolved address
  // checked: inet_aton reads "127.1" as 127.0.0.1.
  const Resolution r = resolve_and_check("127.1", 80, false);
  EXPECT_FALSE(r);
  EXPECT_NE(r.detail.find("loopback"), std::string::npos) << r.detail;
  expect_generic(r.partner);
}

}  // namespace
