// Durations, sizes, listen addresses and the error text format.
#include <gtest/gtest.h>

#include "core/config/config.hpp"

namespace portico::config {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("10s"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("5m"), milliseconds(300'000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(parse_duration("1d"), milliseconds(86'400'000));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
}

TEST(ParseDuration, AcceptsCombinationsLargestUnitFirst) {
  EXPECT_EQ(parse_duration("1m30s"), milliseconds(90'000));
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(parse_duration("1d2h3m4s5ms"), milliseconds(93'784'005));
  EXPECT_EQ(parse_duration("1s500ms"), milliseconds(1'500));
}

TEST(ParseDuration, RejectsMalformedText) {
  for (const char* text : {"", "10", "10 s", "10 sec", "s", "10S", "1.5s", "-1s", "+1s", "10s ",
                           " 10s", "30s1m", "1m1m", "1h30", "10us", "ms"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

TEST(ParseDuration, RejectsOverflow) {
  EXPECT_EQ(parse_duration("99999999999999999999ms"), std::nullopt);
  EXPECT_EQ(parse_duration("9999999999999999d"), std::nullopt);
}

TEST(ParseSize, AcceptsBytesAndUnits) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("512B"), 512u);
  EXPECT_EQ(parse_size("16KiB"), 16u * 1024);
  EXPECT_EQ(parse_size("1MiB"), 1024u * 1024);
  EXPECT_EQ(parse_size("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(parse_size("1KB"), 1000u);
  EXPECT_EQ(parse_size("1MB"), 1'000'000u);
  EXPECT_EQ(parse_size("1GB"), 1'000'000'000u);
}

TEST(ParseSize, RejectsMalformedText) {
  for (const char* text :
       {"", "MiB", "1 MiB", "1 megabyte", "1mib", "1.5MiB", "-1", "1MiBs", "1K", " 1"}) {
    EXPECT_EQ(parse_size(text), std::nullopt) << text;
  }
  EXPECT_EQ(parse_size("99999999999999999999"), std::nullopt);
  EXPECT_EQ(parse_size("99999999999GiB"), std::nullopt);
}

TEST(ListenAddress, ParsesHostAndPort) {
  auto v4 = parse_listen_address("0.0.0.0:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "0.0.0.0");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = parse_listen_address("[::1]:9901");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9901);
  EXPECT_EQ(parse_listen_address("127.0.0.1:0")->port, 0);
  EXPECT_EQ(parse_listen_address("127.0.0.1:65535")->port, 65535);
  EXPECT_EQ(parse_listen_address("localhost:80")->host, "localhost");
}

TEST(ListenAddress, RejectsMalformedAddresses) {
  for (const char* text : {"", "localhost", ":8080", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
                           "1.2.3.4:80a", "::1:8080", "[::1]8080", "[::1]:", "[]:80",
                           "[localhost]:80", "local host:80", "1.2.3.4:123456"}) {
    EXPECT_EQ(parse_listen_address(text), std::nullopt) << text;
  }
}

TEST(ListenAddress, FormatsWithBracketsForV6) {
  EXPECT_EQ((ListenAddress{"127.0.0.1", 8080}).to_string(), "127.0.0.1:8080");
  EXPECT_EQ((ListenAddress{"::1", 8080}).to_string(), "[::1]:8080");
}

TEST(ConfigError, FormatsWithAndWithoutLineAndKey) {
  EXPECT_EQ((ConfigError{"cfg.toml", 3, "server.listen", "bad"}).to_string(),
            "cfg.toml:3 server.listen: bad");
  EXPECT_EQ((ConfigError{"--set", 0, "server.listen", "bad"}).to_string(),
            "--set server.listen: bad");
  EXPECT_EQ((ConfigError{"cfg.toml", 3, "", "bad"}).to_string(), "cfg.toml:3: bad");
  EXPECT_EQ((ConfigError{"missing.toml", 0, "", "bad"}).to_string(), "missing.toml: bad");
}

TEST(ConfigException, WhatListsEveryError) {
  ConfigException error({{"cfg.toml", 1, "a", "one"}, {"cfg.toml", 2, "b", "two"}});
  EXPECT_STREQ(error.what(), "cfg.toml:1 a: one\ncfg.toml:2 b: two");
  EXPECT_EQ(error.errors().size(), 2u);
}

}  // namespace
}  // namespace portico::config
