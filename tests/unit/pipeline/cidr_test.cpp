#include "core/pipeline/cidr.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <random>

namespace portico::pipeline {
namespace {

std::string canonical(std::string_view text) {
  auto ip = parse_ip(text);
  return ip ? ip->to_string() : "<invalid>";
}

TEST(ParseIp, AcceptsIpv4AndIpv6InCanonicalForm) {
  EXPECT_EQ(canonical("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(canonical("2001:DB8:0:0::1"), "2001:db8::1");
  EXPECT_EQ(canonical("[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(canonical("fe80::1%eth0"), "fe80::1");
  EXPECT_TRUE(parse_ip("10.0.0.1")->v4);
  EXPECT_FALSE(parse_ip("::1")->v4);
}

TEST(ParseIp, FoldsIpv4MappedIpv6ToIpv4) {
  auto ip = parse_ip("::ffff:192.0.2.7");
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->v4);
  EXPECT_EQ(ip->to_string(), "192.0.2.7");
  EXPECT_EQ(*ip, *parse_ip("192.0.2.7"));
}

// IPv4 text is written by hand (it is every request's client address): the same as inet_ntop's
// for every value an octet can take in each place, and for random addresses.
TEST(IpAddress, Ipv4TextIsInetNtopsForEveryOctet) {
  auto expect_same = [](std::array<std::uint8_t, 4> octets) {
    IpAddress ip;
    ip.v4 = true;
    std::copy(octets.begin(), octets.end(), ip.bytes.begin());
    char reference[INET_ADDRSTRLEN];
    ASSERT_TRUE(inet_ntop(AF_INET, octets.data(), reference, sizeof reference));
    ASSERT_EQ(ip.to_string(), reference);
    ASSERT_EQ(*parse_ip(reference), ip);
  };
  for (int place = 0; place < 4; ++place) {
    for (int value = 0; value < 256; ++value) {
      std::array<std::uint8_t, 4> octets{1, 2, 3, 4};
      octets[static_cast<std::size_t>(place)] = static_cast<std::uint8_t>(value);
      expect_same(octets);
    }
  }
  std::mt19937 random(7);
  for (int i = 0; i < 10000; ++i) {
    const auto v = random();
    expect_same({static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                 static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)});
  }
}

TEST(ParseIp, RefusesGarbage) {
  for (std::string_view bad : {"", "unknown", "10.0.0", "10.0.0.256", "010.0.0.1", "1.2.3.4.5",
                               "2001:db8:::1", "10.0.0.1 ", "[::1", "::g"}) {
    EXPECT_FALSE(parse_ip(bad)) << bad;
  }
}

TEST(ParseForwardedIp, StripsPortsBracketsAndBlanks) {
  EXPECT_EQ(parse_forwarded_ip(" 203.0.113.5 ")->to_string(), "203.0.113.5");
  EXPECT_EQ(parse_forwarded_ip("203.0.113.5:51234")->to_string(), "203.0.113.5");
  EXPECT_EQ(parse_forwarded_ip("[2001:db8::5]:443")->to_string(), "2001:db8::5");
  EXPECT_EQ(parse_forwarded_ip("2001:db8::5")->to_string(), "2001:db8::5");
  EXPECT_FALSE(parse_forwarded_ip("[2001:db8::5]x"));
  EXPECT_FALSE(parse_forwarded_ip("unknown"));
}

TEST(ParseCidr, BareAddressesAreSingleHosts) {
  auto v4 = parse_cidr("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->to_string(), "192.0.2.1/32");
  EXPECT_TRUE(v4->contains("192.0.2.1"));
  EXPECT_FALSE(v4->contains("192.0.2.2"));
  auto v6 = parse_cidr("2001:db8::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "2001:db8::1/128");
  EXPECT_TRUE(v6->contains("2001:db8::1"));
  EXPECT_FALSE(v6->contains("2001:db8::2"));
}

TEST(ParseCidr, ClearsHostBits) {
  EXPECT_EQ(parse_cidr("10.1.2.3/8")->to_string(), "10.0.0.0/8");
  EXPECT_EQ(parse_cidr("2001:db8:ffff::1/33")->to_string(), "2001:db8:8000::/33");
}

TEST(ParseCidr, RefusesMalformedRanges) {
  for (std::string_view bad :
       {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.0/ 8", "::/129", "/8",
        "10.0.0.0/0008", "::ffff:0:0/129", "nonsense/8"}) {
    EXPECT_FALSE(parse_cidr(bad)) << bad;
  }
}

TEST(CidrContains, Ipv4PrefixesOnAndOffByteBoundaries) {
  auto net = *parse_cidr("192.168.4.0/22");
  EXPECT_TRUE(net.contains("192.168.4.0"));
  EXPECT_TRUE(net.contains("192.168.7.255"));
  EXPECT_FALSE(net.contains("192.168.8.0"));
  EXPECT_FALSE(net.contains("192.168.3.255"));
  auto all = *parse_cidr("0.0.0.0/0");
  EXPECT_TRUE(all.contains("203.0.113.9"));
  EXPECT_FALSE(all.contains("2001:db8::1"));  // an IPv4 range never holds an IPv6 address
  EXPECT_FALSE(net.contains("not an ip"));
}

TEST(CidrContains, Ipv6Prefixes) {
  auto net = *parse_cidr("2001:db8:abcd::/48");
  EXPECT_TRUE(net.contains("2001:db8:abcd:12::1"));
  EXPECT_FALSE(net.contains("2001:db8:abce::1"));
  auto odd = *parse_cidr("2001:db8::/31");
  EXPECT_TRUE(odd.contains("2001:db9::1"));
  EXPECT_FALSE(odd.contains("2001:dba::1"));
  EXPECT_FALSE(net.contains("10.0.0.1"));
}

TEST(CidrContains, MappedAddressesAndRangesActAsIpv4) {
  auto v4 = *parse_cidr("10.0.0.0/8");
  EXPECT_TRUE(v4.contains("::ffff:10.20.30.40"));
  auto mapped = parse_cidr("::ffff:10.0.0.0/104");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->to_string(), "10.0.0.0/8");
  EXPECT_TRUE(mapped->contains("10.9.9.9"));
  // Wider than the mapped block: kept as the IPv6 range it is written as.
  auto wide = parse_cidr("::ffff:0:0/95");
  ASSERT_TRUE(wide);
  EXPECT_FALSE(wide->network.v4);
  EXPECT_EQ(wide->to_string(), "::fffe:0:0/95");
}

TEST(AnyContains, MatchesAnyRange) {
  std::vector<Cidr> ranges = {*parse_cidr("10.0.0.0/8"), *parse_cidr("2001:db8::/32")};
  EXPECT_TRUE(any_contains(ranges, *parse_ip("10.1.1.1")));
  EXPECT_TRUE(any_contains(ranges, *parse_ip("2001:db8::9")));
  EXPECT_FALSE(any_contains(ranges, *parse_ip("192.0.2.1")));
  EXPECT_FALSE(any_contains({}, *parse_ip("10.1.1.1")));
}

}  // namespace
}  // namespace portico::pipeline
