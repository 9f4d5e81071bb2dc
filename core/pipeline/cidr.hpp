// IPv4/IPv6 addresses and CIDR ranges: trusted proxies, partner allow-lists. IPv4-mapped IPv6
// addresses (::ffff:a.b.c.d) are treated as the IPv4 address they carry, so a dual-stack socket
// and an IPv4 allow-list agree.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::pipeline {

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4
  bool v4 = false;

  std::string to_string() const;  // canonical text ("10.0.0.1", "2001:db8::1")
  bool operator==(const IpAddress&) const = default;
};

// Accepts "10.0.0.1", "2001:db8::1", "[2001:db8::1]", "fe80::1%eth0" (zone dropped) and
// "::ffff:10.0.0.1" (→ IPv4). nullopt for anything else (leading zeros in IPv4 included).
std::optional<IpAddress> parse_ip(std::string_view text);

// Whether `text` is an IPv4 address exactly as IpAddress::to_string writes it: four decimal
// numbers 0-255 without leading zeros, three dots, nothing else. Such text parses to itself,
// so a client address of this form needs no parsing to be known canonical (the client IP stage).
bool is_canonical_ipv4(std::string_view text);

// Like parse_ip, and also "10.0.0.1:51234" and "[2001:db8::1]:443" as proxies write them into
// X-Forwarded-For. Surrounding blanks are ignored.
std::optional<IpAddress> parse_forwarded_ip(std::string_view text);

struct Cidr {
  IpAddress network;  // host bits cleared
  int prefix = 0;     // 0..32 for IPv4, 0..128 for IPv6

  bool contains(const IpAddress& ip) const;
  bool contains(std::string_view ip) const;  // false when `ip` does not parse
  std::string to_string() const;             // "10.0.0.0/8"
};

// "10.0.0.0/8", "2001:db8::/32", a bare address (→ /32 or /128), "::ffff:10.0.0.0/104" (→ IPv4
// /8). Host bits are cleared ("10.1.2.3/8" is 10.0.0.0/8). nullopt when malformed.
std::optional<Cidr> parse_cidr(std::string_view text);

// True when any range of `ranges` contains `ip`.
bool any_contains(const std::vector<Cidr>& ranges, const IpAddress& ip);

}  // namespace portico::pipeline
