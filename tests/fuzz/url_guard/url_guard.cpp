// Fuzz target: the webhook SSRF guard, without DNS. The first byte picks what the rest is:
//   0  a webhook URL: parse_target, and for an accepted one the invariants a delivery relies on
//      (its normalised url() parses to the same target; a literal host is classified; a port is
//      1–65535; the request target starts with '/'), then the literal-address check the plugin
//      runs at creation (address_refusal; names are never resolved here);
//   1  an address as text: classify_address, allowed_address and address_refusal agree;
//   2  raw address bytes (4 → IPv4, 16 → IPv6): the class of the bytes equals the class of their
//      text, and IPv4-mapped IPv6 is judged as the IPv4 address it carries.
// Nothing here may throw.
#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_support.hpp"
#include "webhooks_common/target_guard.hpp"

namespace {

namespace fuzz = portico::fuzz;
namespace wh = portico::webhooks;

void check_url(std::string_view url) {
  const wh::TargetParse parsed = wh::parse_target(url);
  if (!parsed) {
    fuzz::check(!parsed.error.empty(), "a refused URL without a reason");
    return;
  }
  const wh::Target& target = *parsed.target;
  fuzz::check(target.scheme == "http" || target.scheme == "https", "a scheme other than http(s)");
  fuzz::check(!target.host.empty(), "an accepted URL without a host");
  fuzz::check(target.port >= 1, "port 0 accepted");
  fuzz::check(!target.target.empty() && target.target.front() == '/',
              "a request target not starting with '/'");
  fuzz::check(target.target.find_first_of(" \r\n\t#") == std::string::npos,
              "whitespace or a fragment in the request target");
  fuzz::check(url.size() <= wh::kMaxTargetLength, "an over-long URL accepted");

  const std::string normal = target.url();
  const wh::TargetParse again = wh::parse_target(normal);
  if (normal.size() <= wh::kMaxTargetLength) {
    fuzz::check(again.target.has_value(), "the normalised URL is refused", normal);
    fuzz::check(again.target->host == target.host && again.target->port == target.port &&
                    again.target->target == target.target &&
                    again.target->scheme == target.scheme &&
                    again.target->host_is_ip == target.host_is_ip,
                "the normalised URL parses to another target", normal);
  }
  const auto kind = wh::classify_address(target.host);
  fuzz::check(kind.has_value() == target.host_is_ip, "host_is_ip disagrees with classify_address",
              target.host);
  if (target.host_is_ip) {
    const auto refusal = wh::address_refusal(target.host, target.host, false);
    fuzz::check(refusal.has_value() != wh::allowed_class(*kind, false),
                "address_refusal disagrees with allowed_class", target.host);
    // The creation check for a literal never resolves anything.
    const wh::Resolution resolution = wh::resolve_and_check(target.host, target.port, false);
    fuzz::check(static_cast<bool>(resolution) == !refusal.has_value(),
                "resolve_and_check disagrees with address_refusal for a literal", target.host);
  }
}

void check_address_text(std::string_view ip) {
  const auto kind = wh::classify_address(ip);
  for (bool allow_private : {false, true}) {
    const bool allowed = wh::allowed_address(ip, allow_private);
    fuzz::check(allowed == (kind && wh::allowed_class(*kind, allow_private)),
                "allowed_address disagrees with classify_address");
    const auto refusal = wh::address_refusal("fuzz.example", ip, allow_private);
    fuzz::check(refusal.has_value() == !allowed, "address_refusal disagrees with allowed_address");
  }
  if (kind) {
    fuzz::check(!wh::allowed_class(wh::AddressClass::unspecified, true) &&
                    !wh::allowed_class(wh::AddressClass::multicast, true),
                "unspecified or multicast allowed");
    (void)wh::why_refused(ip, *kind);
    (void)wh::to_string(*kind);
  }
}

void check_address_bytes(std::string_view bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  if (bytes.size() == 4) {
    std::array<std::uint8_t, 4> a{};
    std::memcpy(a.data(), bytes.data(), 4);
    fuzz::check(inet_ntop(AF_INET, a.data(), text, sizeof text) != nullptr, "inet_ntop v4");
    const auto kind = wh::classify_address(text);
    fuzz::check(kind && *kind == wh::classify_ipv4(a), "IPv4 bytes and text classed apart", text);
    std::array<std::uint8_t, 16> mapped{};
    mapped[10] = mapped[11] = 0xFF;
    std::memcpy(mapped.data() + 12, a.data(), 4);
    fuzz::check(wh::classify_ipv6(mapped) == wh::classify_ipv4(a),
                "an IPv4-mapped address classed apart from its IPv4 address", text);
  } else if (bytes.size() == 16) {
    std::array<std::uint8_t, 16> a{};
    std::memcpy(a.data(), bytes.data(), 16);
    fuzz::check(inet_ntop(AF_INET6, a.data(), text, sizeof text) != nullptr, "inet_ntop v6");
    const auto kind = wh::classify_address(text);
    fuzz::check(kind && *kind == wh::classify_ipv6(a), "IPv6 bytes and text classed apart", text);
    check_url(std::string("https://[") + text + "]:8443/x");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = fuzz::as_text(data + 1, size - 1);
  fuzz::expect_only<fuzz::Never>([&] {
    switch (data[0] % 3) {
      case 0: check_url(rest); break;
      case 1: check_address_text(rest); break;
      default: check_address_bytes(rest); break;
    }
  });
  return 0;
}
