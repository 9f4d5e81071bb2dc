// Where the Redis server is: `redis://[[user]:password@]host[:port][/db]` (port 6379, db 0 by
// default; an IPv6 host in brackets) or `unix:///path/to/redis.sock[?db=N]`. Pure: tested and
// fuzzed without a server.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portico::ratelimit_redis {

struct RedisAddress {
  std::string host;         // empty for a unix socket
  int port = 6379;
  std::string socket_path;  // set for unix://
  std::string user;         // AUTH user (Redis 6 ACL); empty = default user
  std::string password;     // AUTH password; empty = no AUTH
  int db = 0;               // SELECT
};

namespace detail {

inline std::optional<int> small_number(std::string_view text, int max) {
  int value = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

// %XX escapes (a password may hold '@' or ':'); nullopt for a malformed escape.
inline std::optional<std::string> percent_decoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int value = 0;
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

}  // namespace detail

// The address, or nullopt with `error` saying what is wrong (never echoing a password).
inline std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string& error) {
  constexpr int kMaxDb = 65535;
  RedisAddress address;
  if (url.starts_with("unix://")) {
    std::string_view rest = url.substr(7);
    if (const auto query = rest.find('?'); query != std::string_view::npos) {
      const std::string_view params = rest.substr(query + 1);
      rest = rest.substr(0, query);
      if (!params.starts_with("db=")) {
        error = "the only parameter of a unix:// URL is db=N";
        return std::nullopt;
      }
      const auto db = detail::small_number(params.substr(3), kMaxDb);
      if (!db) {
        error = "db must be a number from 0 to 65535";
        return std::nullopt;
      }
      address.db = *db;
    }
    if (!rest.starts_with('/') || rest.size() < 2) {
      error = "a unix:// URL needs an absolute socket path, e.g. unix:///run/redis/redis.sock";
      return std::nullopt;
    }
    address.socket_path = std::string(rest);
    return address;
  }
  if (!url.starts_with("redis://")) {
    error = "must start with redis:// or unix://";
    return std::nullopt;
  }
  std::string_view rest = url.substr(8);
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db_text = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db_text.empty()) {
      const auto db = detail::small_number(db_text, kMaxDb);
      if (!db) {
        error = "the path must be a database number from 0 to 65535, e.g. redis://host:6379/0";
        return std::nullopt;
      }
      address.db = *db;
    }
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    const auto user = detail::percent_decoded(userinfo.substr(0, colon));
    const auto password = colon == std::string_view::npos
                              ? std::optional<std::string>(std::string())
                              : detail::percent_decoded(userinfo.substr(colon + 1));
    if (!user || !password) {
      error = "the user or password has a malformed %-escape";
      return std::nullopt;
    }
    if (colon == std::string_view::npos) {
      // redis://secret@host: the one field is the password, as redis-cli reads it.
      address.password = *user;
    } else {
      address.user = *user;
      address.password = *password;
    }
  }
  std::string_view port_text;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      error = "an IPv6 host needs its closing ']'";
      return std::nullopt;
    }
    address.host = std::string(rest.substr(1, close - 1));
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) {
        error = "only :port may follow an IPv6 host";
        return std::nullopt;
      }
      port_text = after.substr(1);
      if (port_text.empty()) port_text = "x";
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    address.host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
    if (port_text.empty()) port_text = "x";
  } else {
    address.host = std::string(rest);
  }
  if (address.host.empty()) {
    error = "needs a host, e.g. redis://127.0.0.1:6379/0";
    return std::nullopt;
  }
  for (const char c : address.host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '@' || c == '?' || c == '#') {
      error = "the host has a character a host name cannot have";
      return std::nullopt;
    }
  }
  if (!port_text.empty()) {
    const auto port = detail::small_number(port_text, 65535);
    if (!port || *port == 0) {
      error = "the port must be a number from 1 to 65535";
      return std::nullopt;
    }
    address.port = *port;
  }
  return address;
}

}  // namespace portico::ratelimit_redis
