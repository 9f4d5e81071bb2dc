#include "core/pipeline/cidr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace portico::pipeline {
namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(const std::uint8_t* bytes) {
  return std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), bytes);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (auto zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  // inet_pton wants a NUL-terminated string; the longest valid form is 45 characters.
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';

  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buffer, ip.bytes.data()) != 1) return std::nullopt;
    ip.v4 = true;
    return ip;
  }
  std::uint8_t v6[16];
  if (inet_pton(AF_INET6, buffer, v6) != 1) return std::nullopt;
  if (is_v4_mapped(v6)) {
    std::memcpy(ip.bytes.data(), v6 + 12, 4);
    ip.v4 = true;
  } else {
    std::memcpy(ip.bytes.data(), v6, 16);
  }
  return ip;
}

bool is_canonical_ipv4(std::string_view text) {
  std::size_t at = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (at >= text.size() || text[at] != '.') return false;
      ++at;
    }
    const std::size_t start = at;
    unsigned value = 0;
    while (at < text.size() && at - start < 3 && text[at] >= '0' && text[at] <= '9') {
      value = value * 10 + static_cast<unsigned>(text[at] - '0');
      ++at;
    }
    const std::size_t digits = at - start;
    if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return false;
  }
  return at == text.size();
}

std::optional<IpAddress> parse_forwarded_ip(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;  // "[::1]:443" or "[::1]"
    return parse_ip(text.substr(1, close - 1));
  }
  // Exactly one colon: IPv4 with a port. More than one: a bare IPv6 address.
  auto colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    return parse_ip(text.substr(0, colon));
  }
  return parse_ip(text);
}

std::string IpAddress::to_string() const {
  if (v4) {  // every request's client address: digits by hand, not inet_ntop's sprintf
    char text[16];
    char* out = text;
    for (int i = 0; i < 4; ++i) {
      if (i > 0) *out++ = '.';
      const unsigned octet = bytes[i];
      if (octet >= 100) *out++ = static_cast<char>('0' + octet / 100);
      if (octet >= 10) *out++ = static_cast<char>('0' + octet / 10 % 10);
      *out++ = static_cast<char>('0' + octet % 10);
    }
    return std::string(text, out);
  }
  char buffer[INET6_ADDRSTRLEN];
  if (!inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buffer, sizeof buffer)) return {};
  return buffer;
}

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.v4 != network.v4) return false;
  int full = prefix / 8;
  if (!std::equal(network.bytes.begin(), network.bytes.begin() + full, ip.bytes.begin())) {
    return false;
  }
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (ip.bytes[full] & mask) == network.bytes[full];
}

bool Cidr::contains(std::string_view ip) const {
  auto parsed = parse_ip(ip);
  return parsed && contains(*parsed);
}

std::string Cidr::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix);
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  text = trim(text);
  auto slash = text.find('/');
  auto address = parse_ip(text.substr(0, slash));
  if (!address) return std::nullopt;

  // A mapped IPv6 range is written against 128 bits; parse_ip already folded the address to IPv4.
  bool written_as_v6 = text.substr(0, slash).find(':') != std::string_view::npos;
  int max_prefix = address->v4 ? 32 : 128;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    if (prefix < 0 || prefix > (written_as_v6 ? 128 : 32)) return std::nullopt;
    if (address->v4 && written_as_v6) {
      if (prefix >= 96) {
        prefix -= 96;
      } else {  // wider than the mapped block: an IPv6 range, whatever its address looks like
        IpAddress v6;
        std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), v6.bytes.begin());
        std::copy(address->bytes.begin(), address->bytes.begin() + 4, v6.bytes.begin() + 12);
        address = v6;
      }
    }
  }

  Cidr cidr;
  cidr.network = *address;
  cidr.prefix = prefix;
  int size = address->v4 ? 4 : 16;
  for (int i = 0; i < size; ++i) {
    int bits = std::clamp(prefix - i * 8, 0, 8);
    auto mask = static_cast<std::uint8_t>(bits == 0 ? 0 : 0xff << (8 - bits));
    cidr.network.bytes[i] &= mask;
  }
  return cidr;
}

bool any_contains(const std::vector<Cidr>& ranges, const IpAddress& ip) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const Cidr& range) { return range.contains(ip); });
}

}  // namespace portico::pipeline
