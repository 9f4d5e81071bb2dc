// Listen addresses: "host:port" and "[v6]:port", port 0..65535 (0 = any free port).
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.hpp"

namespace portico::config {
namespace {

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

bool is_host_char(char c, bool v6) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) return true;
  if (v6) return c == ':' || c == '.';
  return (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z') || c == '.' || c == '-' || c == '_';
}

bool valid_host(std::string_view host, bool v6) {
  if (host.empty()) return false;
  if (v6 && host.find(':') == std::string_view::npos) return false;
  for (char c : host) {
    if (!is_host_char(c, v6)) return false;
  }
  return true;
}

}  // namespace

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
  std::string_view host;
  std::string_view port;
  bool v6 = !text.empty() && text.front() == '[';
  if (v6) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);  // a second ':' (bare IPv6) fails parse_port
  }
  auto port_number = parse_port(port);
  if (!valid_host(host, v6) || !port_number) return std::nullopt;
  return ListenAddress{std::string(host), *port_number};
}

std::string ListenAddress::to_string() const {
  std::string port_text = std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

}  // namespace portico::config
