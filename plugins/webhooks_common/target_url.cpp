// The URL half of the SSRF guard (target_guard.hpp): Target (authority, url) and parse_target,
// which URLs an endpoint may have. Which addresses a delivery may connect to, and resolving a
// target's host, are in target_guard.cpp.
#include "webhooks_common/target_guard.hpp"

#include <algorithm>
#include <utility>

#include "webhooks_common/address_text.hpp"

namespace portico::webhooks {

namespace {

using detail::ipv4_bytes;
using detail::ipv6_bytes;
using detail::quoted;

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

}  // namespace portico::webhooks
