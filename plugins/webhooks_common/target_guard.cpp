#include "webhooks_common/target_guard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

namespace portico::webhooks {

namespace {

constexpr std::string_view kAllowPrivateHint =
    " (or set plugins.webhook_delivery.allow_private_targets = true)";

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f');
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::optional<std::array<std::uint8_t, 4>> ipv4_bytes(std::string_view text) {
  if (text.size() > INET_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  std::array<std::uint8_t, 4> bytes{};
  if (inet_pton(AF_INET, copy.c_str(), bytes.data()) != 1) return std::nullopt;
  return bytes;
}

std::optional<std::array<std::uint8_t, 16>> ipv6_bytes(std::string_view text) {
  if (text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  std::array<std::uint8_t, 16> bytes{};
  if (inet_pton(AF_INET6, copy.c_str(), bytes.data()) != 1) return std::nullopt;
  return bytes;
}

std::string ipv6_text(const std::array<std::uint8_t, 16>& bytes) {
  char text[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, bytes.data(), text, sizeof text) ? text : "";
}

// WHATWG's "ends in a number": a host whose last label is numeric is an IPv4 attempt, which
// resolvers read in surprising ways (inet_aton takes "127.1", octal, hex, one 32-bit number).
bool looks_numeric(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  const std::size_t dot = host.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), is_digit)) return true;
  if (last.size() >= 2 && last[0] == '0' && last[1] == 'x') {
    return std::all_of(last.begin() + 2, last.end(), is_hex);
  }
  return false;
}

// Empty when `host` (lowercase, not bracketed) is an acceptable DNS name or dotted quad.
std::string host_problem(std::string_view host) {
  if (looks_numeric(host)) {
    if (ipv4_bytes(host)) return {};
    return quoted(host) +
           " is not a valid IPv4 address (write four decimal numbers, like 192.0.2.1)";
  }
  if (host.find('%') != std::string_view::npos) {
    return "the host must not be percent-encoded";
  }
  std::string_view name = host;
  if (name.ends_with('.')) name.remove_suffix(1);  // a fully qualified name
  if (name.size() > 253) return "the host name is longer than 253 characters";
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view label = name.substr(start, end - start);
    if (label.empty()) return "the host " + quoted(host) + " has an empty label";
    if (label.size() > 63) return "the host " + quoted(host) + " has a label over 63 characters";
    for (char c : label) {
      if (!(is_digit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_')) {
        return "the host " + quoted(host) + " contains " + quoted(std::string_view(&c, 1)) +
               "; use letters, digits, '-' and '.' (punycode for international names)";
      }
    }
    start = end + 1;
  }
  return {};
}

std::string_view describe(AddressClass kind) {
  switch (kind) {
    case AddressClass::global: return "a public address";
    case AddressClass::loopback: return "a loopback address";
    case AddressClass::private_network: return "a private address";
    case AddressClass::link_local: return "a link-local address";
    case AddressClass::unspecified: return "the unspecified address";
    case AddressClass::multicast: return "a multicast address";
    case AddressClass::reserved: return "a reserved (not publicly routable) address";
  }
  return "an address";
}

AddressClass embedded_ipv4(const std::array<std::uint8_t, 16>& address, std::size_t at) {
  return classify_ipv4({address[at], address[at + 1], address[at + 2], address[at + 3]});
}

}  // namespace

std::string Target::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (https() ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::string Target::url() const {
  return scheme + "://" + authority() + target;
}

TargetParse parse_target(std::string_view url) {
  auto fail = [](std::string message) { return TargetParse{std::nullopt, std::move(message)}; };
  if (url.empty()) return fail("the URL is empty");
  if (url.size() > kMaxTargetLength) {
    return fail("the URL is longer than " + std::to_string(kMaxTargetLength) + " characters");
  }
  for (char ch : url) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      return fail("the URL must not contain whitespace");
    }
    if (c < 0x20 || c == 0x7F) return fail("the URL must not contain control characters");
    if (c >= 0x80) {
      return fail(
          "the URL must not contain non-ASCII characters (percent-encode them in the path; use "
          "punycode for international domain names)");
    }
    if (c == '\\') return fail("the URL must not contain a backslash");
  }
  const std::size_t separator = url.find("://");
  if (separator == std::string_view::npos || separator == 0) {
    return fail("the URL must be absolute, starting with https:// or http://");
  }
  const std::string scheme = lowercase(url.substr(0, separator));
  if (scheme != "http" && scheme != "https") {
    return fail("the URL must use http or https, not " + quoted(scheme));
  }
  if (url.find('#') != std::string_view::npos) {
    return fail("the URL must not contain a fragment (#…)");
  }
  const std::string_view rest = url.substr(separator + 3);
  const std::size_t authority_end = std::min(rest.find('/'), rest.find('?'));
  const std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return fail("the URL must not contain credentials (user:password@)");
  }

  Target parsed;
  parsed.scheme = scheme;
  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("the IPv6 address lacks its closing ']'");
    const std::string_view literal = authority.substr(1, close - 1);
    if (literal.find('%') != std::string_view::npos) {
      return fail("IPv6 zone identifiers (%…) are not allowed");
    }
    const auto bytes = ipv6_bytes(literal);
    if (!bytes) return fail(quoted(literal) + " is not a valid IPv6 address");
    parsed.host = ipv6_text(*bytes);
    parsed.host_is_ip = true;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return fail("unexpected " + quoted(after) + " after the IPv6 address");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
      if (port_text.find(':') != std::string_view::npos) {
        return fail("IPv6 addresses must be written in brackets, like http://[2001:db8::1]/");
      }
    }
    if (host.empty()) return fail("the URL has no host");
    parsed.host = lowercase(host);
    if (std::string problem = host_problem(parsed.host); !problem.empty()) return fail(problem);
    parsed.host_is_ip = ipv4_bytes(parsed.host).has_value();
  }
  if (parsed.host.empty()) return fail("the URL has no host");

  parsed.port = parsed.https() ? 443 : 80;
  if (has_port) {
    if (port_text.empty()) return fail("the port after ':' is empty");
    if (!std::all_of(port_text.begin(), port_text.end(), is_digit) || port_text.size() > 5) {
      return fail(quoted(port_text) + " is not a valid port (a number from 1 to 65535)");
    }
    const int port = std::stoi(std::string(port_text));
    if (port < 1 || port > 65535) return fail("the port must be a number from 1 to 65535");
    parsed.port = static_cast<std::uint16_t>(port);
  }
  if (target.empty()) {
    parsed.target = "/";
  } else if (target[0] == '?') {
    parsed.target = "/" + std::string(target);
  } else {
    parsed.target = std::string(target);
  }
  return {std::move(parsed), {}};
}

std::string_view to_string(AddressClass kind) {
  switch (kind) {
    case AddressClass::global: return "global";
    case AddressClass::loopback: return "loopback";
    case AddressClass::private_network: return "private";
    case AddressClass::link_local: return "link-local";
    case AddressClass::unspecified: return "unspecified";
    case AddressClass::multicast: return "multicast";
    case AddressClass::reserved: return "reserved";
  }
  return "unknown";
}

AddressClass classify_ipv4(const std::array<std::uint8_t, 4>& a) {
  if (a[0] == 0) {
    return a[1] == 0 && a[2] == 0 && a[3] == 0 ? AddressClass::unspecified  // 0.0.0.0
                                               : AddressClass::reserved;    // "this network"
  }
  if (a[0] == 127) return AddressClass::loopback;
  if (a[0] == 10) return AddressClass::private_network;
  if (a[0] == 172 && (a[1] & 0xF0) == 16) return AddressClass::private_network;  // 172.16/12
  if (a[0] == 192 && a[1] == 168) return AddressClass::private_network;
  if (a[0] == 169 && a[1] == 254) return AddressClass::link_local;           // incl. cloud metadata
  if (a[0] == 100 && (a[1] & 0xC0) == 64) return AddressClass::reserved;     // 100.64/10 CGNAT
  if (a[0] == 192 && a[1] == 0 && a[2] == 0) return AddressClass::reserved;  // IETF assignments
  if (a[0] == 192 && a[1] == 0 && a[2] == 2) return AddressClass::reserved;  // TEST-NET-1
  if (a[0] == 192 && a[1] == 88 && a[2] == 99) return AddressClass::reserved;  // 6to4 relay
  if (a[0] == 198 && (a[1] & 0xFE) == 18) return AddressClass::reserved;  // 198.18/15 benchmarks
  if (a[0] == 198 && a[1] == 51 && a[2] == 100) return AddressClass::reserved;  // TEST-NET-2
  if (a[0] == 203 && a[1] == 0 && a[2] == 113) return AddressClass::reserved;   // TEST-NET-3
  if ((a[0] & 0xF0) == 224) return AddressClass::multicast;                     // 224/4
  if ((a[0] & 0xF0) == 240) return AddressClass::reserved;  // 240/4 incl. 255.255.255.255
  return AddressClass::global;
}

AddressClass classify_ipv6(const std::array<std::uint8_t, 16>& a) {
  auto zero = [&](std::size_t from, std::size_t to) {
    return std::all_of(a.begin() + from, a.begin() + to, [](std::uint8_t b) { return b == 0; });
  };
  if (zero(0, 16)) return AddressClass::unspecified;
  if (zero(0, 15) && a[15] == 1) return AddressClass::loopback;
  if (zero(0, 10) && a[10] == 0xFF && a[11] == 0xFF) return embedded_ipv4(a, 12);  // ::ffff:v4
  if (zero(0, 12)) return embedded_ipv4(a, 12);  // ::v4, deprecated IPv4-compatible
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xFF && a[3] == 0x9B) {
    if (zero(4, 12)) return embedded_ipv4(a, 12);  // 64:ff9b::/96 NAT64 well-known prefix
    if (a[4] == 0x00 && a[5] == 0x01) return AddressClass::reserved;  // 64:ff9b:1::/48 local
  }
  if (a[0] == 0x20 && a[1] == 0x02) return embedded_ipv4(a, 2);  // 2002::/16 6to4
  if (a[0] == 0xFF) return AddressClass::multicast;
  if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) return AddressClass::link_local;       // fe80::/10
  if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0) return AddressClass::private_network;  // fec0::/10
  if ((a[0] & 0xFE) == 0xFC) return AddressClass::private_network;  // fc00::/7 unique local
  if (a[0] == 0x01 && a[1] == 0x00 && zero(2, 8)) return AddressClass::reserved;  // 100::/64
  if (a[0] == 0x20 && a[1] == 0x01) {
    if (a[2] == 0x0D && a[3] == 0xB8) return AddressClass::reserved;  // 2001:db8::/32 docs
    if ((a[2] & 0xFE) == 0) return AddressClass::reserved;  // 2001::/23 IETF (Teredo, ORCHID)
  }
  if (a[0] == 0x3F && a[1] == 0xFF && (a[2] & 0xF0) == 0)
    return AddressClass::reserved;                         // 3fff::/20
  if ((a[0] & 0xE0) == 0x20) return AddressClass::global;  // 2000::/3, global unicast
  return AddressClass::reserved;                           // everything else is unallocated
}

std::optional<AddressClass> classify_address(std::string_view ip) {
  if (auto v4 = ipv4_bytes(ip)) return classify_ipv4(*v4);
  if (auto v6 = ipv6_bytes(ip)) return classify_ipv6(*v6);
  return std::nullopt;
}

bool allowed_class(AddressClass kind, bool allow_private) {
  switch (kind) {
    case AddressClass::global: return true;
    case AddressClass::unspecified:
    case AddressClass::multicast: return false;
    case AddressClass::loopback:
    case AddressClass::private_network:
    case AddressClass::link_local:
    case AddressClass::reserved: return allow_private;
  }
  return false;
}

bool allowed_address(std::string_view ip, bool allow_private) {
  const std::optional<AddressClass> kind = classify_address(ip);
  return kind && allowed_class(*kind, allow_private);
}

std::string why_refused(std::string_view ip, AddressClass kind) {
  return std::string(ip) + " is " + std::string(describe(kind));
}

std::optional<std::string> address_refusal(std::string_view host, std::string_view ip,
                                           bool allow_private) {
  const std::optional<AddressClass> kind = classify_address(ip);
  if (!kind) return quoted(ip) + " is not an IP address";
  if (allowed_class(*kind, allow_private)) return std::nullopt;
  std::string message = host == ip ? why_refused(ip, *kind)
                                   : std::string(host) + " resolves to " + std::string(ip) + ", " +
                                         std::string(describe(*kind));
  message += "; webhook targets must be public";
  if (allowed_class(*kind, true)) message += kAllowPrivateHint;
  return message;
}

Resolution resolve_and_check(const std::string& host, std::uint16_t port, bool allow_private) {
  Resolution result;
  auto refuse = [&result](std::string detail, std::string_view partner) {
    result.detail = std::move(detail);
    result.partner = std::string(partner);
  };
  if (host.empty()) {
    refuse("the target has no host", kPartnerNotPublicHost);
    return result;
  }
  if (classify_address(host)) {  // a literal: no DNS, and the message names it once
    result.addresses.push_back(host);
    if (auto refusal = address_refusal(host, host, allow_private)) {
      refuse(*refusal, kPartnerNotPublicHost);
    }
    return result;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int status = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  const std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, freeaddrinfo);
  if (status != 0) {
    const std::string reason = status == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(status);
    if (status == EAI_AGAIN) {
      refuse(host + " could not be resolved right now (" + reason + "); try again",
             kPartnerResolveLater);
    } else if (status == EAI_NONAME
#ifdef EAI_NODATA
               || status == EAI_NODATA
#endif
    ) {
      refuse(host + " does not resolve (" + reason + ")", kPartnerNotPublicName);
    } else {
      refuse(host + " could not be resolved (" + reason + ")", kPartnerNotPublicName);
    }
    return result;
  }
  for (const addrinfo* entry = found; entry; entry = entry->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* address = nullptr;
    if (entry->ai_family == AF_INET) {
      address = &reinterpret_cast<const sockaddr_in*>(entry->ai_addr)->sin_addr;
    } else if (entry->ai_family == AF_INET6) {
      address = &reinterpret_cast<const sockaddr_in6*>(entry->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    if (!inet_ntop(entry->ai_family, address, text, sizeof text)) continue;
    if (std::find(result.addresses.begin(), result.addresses.end(), text) ==
        result.addresses.end()) {
      result.addresses.push_back(text);
    }
  }
  if (result.addresses.empty()) {
    refuse(host + " does not resolve to any IPv4 or IPv6 address", kPartnerNotPublicName);
    return result;
  }
  for (const std::string& address : result.addresses) {
    if (auto refusal = address_refusal(host, address, allow_private)) {
      refuse(*refusal, kPartnerNotPublicName);
      break;
    }
  }
  return result;
}

}  // namespace portico::webhooks
