// Internal to target_url.cpp and target_guard.cpp (not part of webhooks_common's interface): IP
// literals as text to network-order bytes, and quoting for messages.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portico::webhooks::detail {

inline std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

inline std::optional<std::array<std::uint8_t, 4>> ipv4_bytes(std::string_view text) {
  if (text.size() > INET_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  std::array<std::uint8_t, 4> bytes{};
  if (inet_pton(AF_INET, copy.c_str(), bytes.data()) != 1) return std::nullopt;
  return bytes;
}

inline std::optional<std::array<std::uint8_t, 16>> ipv6_bytes(std::string_view text) {
  if (text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  std::array<std::uint8_t, 16> bytes{};
  if (inet_pton(AF_INET6, copy.c_str(), bytes.data()) != 1) return std::nullopt;
  return bytes;
}

}  // namespace portico::webhooks::detail
