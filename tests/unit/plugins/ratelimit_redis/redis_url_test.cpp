#include <gtest/gtest.h>

#include <string>

#include "plugins/ratelimit_redis/redis_url.hpp"

namespace {

namespace rr = portico::ratelimit_redis;

rr::RedisAddress parsed(const std::string& url) {
  std::string error;
  auto address = rr::parse_redis_url(url, error);
  EXPECT_TRUE(address.has_value()) << url << ": " << error;
  return address.value_or(rr::RedisAddress{});
}

std::string refused(const std::string& url) {
  std::string error;
  EXPECT_FALSE(rr::parse_redis_url(url, error).has_value()) << url;
  return error;
}

TEST(RedisUrl, HostPortAndDatabase) {
  auto a = parsed("redis://127.0.0.1:6379/0");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 6379);
  EXPECT_EQ(a.db, 0);
  EXPECT_TRUE(a.password.empty());
  auto b = parsed("redis://cache.internal/3");
  EXPECT_EQ(b.host, "cache.internal");
  EXPECT_EQ(b.port, 6379);
  EXPECT_EQ(b.db, 3);
  auto c = parsed("redis://[::1]:7000");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 7000);
}

TEST(RedisUrl, CredentialsAreDecoded) {
  auto a = parsed("redis://:s%40cret@127.0.0.1:6379/1");
  EXPECT_EQ(a.user, "");
  EXPECT_EQ(a.password, "s@cret");
  auto b = parsed("redis://portico:pw@host");
  EXPECT_EQ(b.user, "portico");
  EXPECT_EQ(b.password, "pw");
  auto c = parsed("redis://onlypassword@host");
  EXPECT_EQ(c.password, "onlypassword");
  EXPECT_EQ(c.user, "");
}

TEST(RedisUrl, UnixSockets) {
  auto a = parsed("unix:///run/redis/redis.sock");
  EXPECT_EQ(a.socket_path, "/run/redis/redis.sock");
  EXPECT_TRUE(a.host.empty());
  EXPECT_EQ(parsed("unix:///tmp/r.sock?db=2").db, 2);
}

TEST(RedisUrl, BadUrlsSayWhatIsWrongWithoutEchoingTheSecret) {
  EXPECT_NE(refused("http://127.0.0.1:6379").find("redis://"), std::string::npos);
  EXPECT_NE(refused("redis://127.0.0.1:0").find("port"), std::string::npos);
  EXPECT_NE(refused("redis://127.0.0.1:65536").find("port"), std::string::npos);
  EXPECT_NE(refused("redis://127.0.0.1:").find("port"), std::string::npos);
  EXPECT_NE(refused("redis://127.0.0.1:6379/x").find("database"), std::string::npos);
  EXPECT_NE(refused("redis://127.0.0.1:6379/70000").find("database"), std::string::npos);
  EXPECT_NE(refused("redis://:6379").find("host"), std::string::npos);
  EXPECT_NE(refused("redis://[::1:6379").find("]"), std::string::npos);
  EXPECT_NE(refused("unix://relative.sock").find("absolute"), std::string::npos);
  EXPECT_NE(refused("unix:///tmp/r.sock?x=1").find("db="), std::string::npos);
  const std::string error = refused("redis://:bad%zzsecret@host");
  EXPECT_EQ(error.find("secret"), std::string::npos) << error;
}

}  // namespace
