// CIDR canonical forms and matching (the forms stored for partner allow-lists): IPv4, IPv6, bare
// addresses, mapped addresses and malformed input.
#include <gtest/gtest.h>

#include "core/pipeline/cidr.hpp"

namespace portico::pipeline {
namespace {

std::string canonical(std::string_view text) {
  auto cidr = parse_cidr(text);
  return cidr ? cidr->to_string() : "<invalid>";
}

TEST(CidrCanonical, ParsesIpv4BlocksAndBareAddresses) {
  EXPECT_EQ(canonical("10.0.0.0/8"), "10.0.0.0/8");
  EXPECT_EQ(canonical("203.0.113.7"), "203.0.113.7/32");
  EXPECT_EQ(canonical("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(canonical("192.168.1.77/24"), "192.168.1.0/24") << "host bits are cleared";
  EXPECT_EQ(canonical("192.168.1.77/23"), "192.168.0.0/23");
}

TEST(CidrCanonical, ParsesIpv6BlocksAndBareAddresses) {
  EXPECT_EQ(canonical("2001:db8::/32"), "2001:db8::/32");
  EXPECT_EQ(canonical("2001:DB8:0:0::1"), "2001:db8::1/128");
  EXPECT_EQ(canonical("::1"), "::1/128");
  EXPECT_EQ(canonical("::/0"), "::/0");
  EXPECT_EQ(canonical("2001:db8:abcd:12ff::/60"), "2001:db8:abcd:12f0::/60");
  EXPECT_EQ(canonical("[2001:db8::5]"), "2001:db8::5/128");
}

TEST(CidrCanonical, TrimsSurroundingSpace) {
  EXPECT_EQ(canonical(" 10.0.0.1 "), "10.0.0.1/32");
}

TEST(CidrCanonical, RefusesMalformedInput) {
  for (std::string_view bad :
       {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0/8", "10.0.0.256", "010.0.0.1",
        "1.2.3.4.5", "example.com", "10.0.0.0/8/8", "2001:db8::/129", "2001:db8:::1", "2001:db8::g",
        "/24", "10.0.0.0/a"}) {
    EXPECT_FALSE(parse_cidr(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(CidrCanonical, MatchesIpv4) {
  auto block = *parse_cidr("203.0.113.0/24");
  EXPECT_TRUE(block.contains("203.0.113.0"));
  EXPECT_TRUE(block.contains("203.0.113.255"));
  EXPECT_FALSE(block.contains("203.0.114.0"));
  EXPECT_FALSE(block.contains("203.0.112.255"));
  auto odd = *parse_cidr("10.0.0.0/13");
  EXPECT_TRUE(odd.contains("10.7.255.255"));
  EXPECT_FALSE(odd.contains("10.8.0.0"));
  auto one = *parse_cidr("198.51.100.9");
  EXPECT_TRUE(one.contains("198.51.100.9"));
  EXPECT_FALSE(one.contains("198.51.100.10"));
  EXPECT_TRUE((*parse_cidr("0.0.0.0/0")).contains("8.8.8.8"));
}

TEST(CidrCanonical, MatchesIpv6) {
  auto block = *parse_cidr("2001:db8::/32");
  EXPECT_TRUE(block.contains("2001:db8::1"));
  EXPECT_TRUE(block.contains("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(block.contains("2001:db9::1"));
  EXPECT_TRUE((*parse_cidr("::1")).contains("::1"));
  EXPECT_TRUE((*parse_cidr("::1")).contains("[::1]"));
  EXPECT_TRUE((*parse_cidr("fe80::/10")).contains("fe80::1%eth0")) << "zone ids are ignored";
}

TEST(CidrCanonical, FamiliesDoNotMixExceptMappedIpv4) {
  EXPECT_FALSE((*parse_cidr("0.0.0.0/0")).contains("::1"));
  EXPECT_FALSE((*parse_cidr("::/0")).contains("127.0.0.1"));
  EXPECT_TRUE((*parse_cidr("203.0.113.0/24")).contains("::ffff:203.0.113.5"));
  EXPECT_FALSE((*parse_cidr("203.0.113.0/24")).contains("::ffff:203.0.114.5"));
}

TEST(CidrCanonical, MalformedAddressesAreNeverContained) {
  auto any = *parse_cidr("0.0.0.0/0");
  EXPECT_FALSE(any.contains(""));
  EXPECT_FALSE(any.contains("not-an-ip"));
  EXPECT_FALSE(any.contains("1.2.3"));
}

}  // namespace
}  // namespace portico::pipeline
