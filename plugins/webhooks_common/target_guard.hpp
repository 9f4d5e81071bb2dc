// The SSRF guard for webhook targets: which URLs an endpoint may have, and which addresses a
// delivery may connect to. Checked when an endpoint is created (parse_target, then
// resolve_and_check) and again for every connection (the delivery service classifies the
// addresses its own resolver returns, so a name re-pointed at 127.0.0.1 after creation — DNS
// rebinding — is still refused).
//
// Policy: public (global) addresses only. `plugins.webhook_delivery.allow_private_targets = true`
// also admits loopback, private, link-local and reserved addresses (internal receivers, tests);
// the unspecified address and multicast are never targets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::webhooks {

inline constexpr std::size_t kMaxTargetLength = 2048;

// A target URL taken apart for an HTTP client.
struct Target {
  std::string scheme;       // "http" | "https"
  std::string host;         // lowercase; an IPv6 literal without brackets
  std::uint16_t port = 0;   // explicit, or 80 / 443
  std::string target;       // origin-form request target: path + query, "/" when empty
  bool host_is_ip = false;  // an IPv4 or IPv6 literal (no DNS)

  bool https() const { return scheme == "https"; }
  // The Host header value: host (IPv6 in brackets), ":port" unless it is the scheme's default.
  std::string authority() const;
  // scheme://authority/target, normalised.
  std::string url() const;
};

struct TargetParse {
  std::optional<Target> target;
  std::string error;  // why not, when !target: "the URL must use http or https"
  explicit operator bool() const { return target.has_value(); }
};

// Accepts absolute http/https URLs of at most 2048 bytes: no userinfo, a host (a DNS name of
// letters, digits, '-', '_' and '.', a dotted-quad IPv4 address, or a bracketed IPv6 address
// without zone), an optional port 1–65535, no fragment, no whitespace, control or non-ASCII
// characters. Numeric hosts that are not strict dotted quads ("127.1", "0x7f.0.0.1",
// "2130706433", "010.0.0.1") are refused rather than guessed at.
TargetParse parse_target(std::string_view url);

enum class AddressClass {
  global,           // publicly routable
  loopback,         // 127.0.0.0/8, ::1
  private_network,  // 10/8, 172.16/12, 192.168/16, fc00::/7 (ULA), fec0::/10 (site-local)
  link_local,       // 169.254/16, fe80::/10
  unspecified,      // 0.0.0.0, ::
  multicast,        // 224/4, ff00::/8
  reserved,         // anything else not publicly routable: 0/8, 100.64/10 (CGNAT), 192.0.0/24,
                    // documentation, 198.18/15, 240/4, broadcast, 100::/64, 2001::/23, ...
};

// "global", "loopback", "private", "link-local", "unspecified", "multicast", "reserved".
std::string_view to_string(AddressClass kind);

// Addresses as network-order bytes (asio's address_v4/v6::to_bytes()). IPv4-mapped
// (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
// IPv6 addresses are judged by the IPv4 address they carry.
AddressClass classify_ipv4(const std::array<std::uint8_t, 4>& address);
AddressClass classify_ipv6(const std::array<std::uint8_t, 16>& address);
// An IPv4 or IPv6 literal as text (IPv6 without brackets); nullopt when it is not one.
std::optional<AddressClass> classify_address(std::string_view ip);

// Whether a delivery may connect to `kind` / to the literal `ip` (false for non-literals).
bool allowed_class(AddressClass kind, bool allow_private);
bool allowed_address(std::string_view ip, bool allow_private);

// "127.0.0.1 is a loopback address", "10.0.0.5 is a private address".
std::string why_refused(std::string_view ip, AddressClass kind);

// The full refusal for connecting to `ip` found for `host` (host == ip for a literal), or nullopt
// when allowed: "example.internal resolves to 10.0.0.5, a private address; webhook targets must
// be public (or set plugins.webhook_delivery.allow_private_targets = true)". Also refuses a
// non-literal `ip`. For the OPERATOR log only: it names internal addresses and an operator
// setting, which a partner must never see (use the kPartner* texts below for them).
std::optional<std::string> address_refusal(std::string_view host, std::string_view ip,
                                           bool allow_private);

// What a partner is told when a target's address is refused (the `url` field's message at
// creation, the `error` of a delivery attempt). Generic on purpose: a partner learns neither the
// address a name resolves to, nor its class, nor the setting that would admit it, so webhook URLs
// cannot be used to map the gateway's internal names. A name that does not resolve at all gets
// the same text as one resolving to a private address, for the same reason.
inline constexpr std::string_view kPartnerNotPublicHost =
    "must be a public https/http address: the host is not a public address";
inline constexpr std::string_view kPartnerNotPublicName =
    "must be a public https/http address: the host does not resolve to a public address";
inline constexpr std::string_view kPartnerResolveLater =
    "could not be checked: the host could not be resolved right now; try again";
inline constexpr std::string_view kPartnerRefusedAtDelivery =
    "not sent: the endpoint's host is not a public address";

struct Resolution {
  std::vector<std::string> addresses;  // every address found, as text, in resolver order
  // Why the target is refused, for the operator log (host, address, class, the setting that
  // would allow it); empty when it is allowed.
  std::string detail;
  // The same refusal as a partner may read it: one of the kPartner* texts.
  std::string partner;
  explicit operator bool() const { return detail.empty(); }
};

// Resolves `host` (blocking getaddrinfo; an IP literal is taken as is) and refuses the target if
// it does not resolve or if ANY address is forbidden — so "localhost" is refused unless
// allow_private. For endpoint creation; deliveries check what their own resolver returns.
Resolution resolve_and_check(const std::string& host, std::uint16_t port, bool allow_private);

}  // namespace portico::webhooks
