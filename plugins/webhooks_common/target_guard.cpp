// The address half of the SSRF guard (target_guard.hpp): address classes (IPv4, IPv6 and the
// IPv4 addresses IPv6 ones carry), the policy of which a delivery may connect to, the refusal
// texts, and resolve_and_check (getaddrinfo) for endpoint creation. The URL rules (Target,
// parse_target) are in target_url.cpp.
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

#include "webhooks_common/address_text.hpp"

namespace portico::webhooks {

namespace {

using detail::ipv4_bytes;
using detail::ipv6_bytes;
using detail::quoted;

constexpr std::string_view kAllowPrivateHint =
    " (or set plugins.webhook_delivery.allow_private_targets = true)";

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
