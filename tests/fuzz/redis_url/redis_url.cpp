// Fuzz target: ratelimit_redis's `url` setting (plugins/ratelimit_redis/redis_url.hpp). Nothing
// may crash or throw; an accepted URL names a host or an absolute socket path (never both), a
// port in 1–65535 and a database in 0–65535; a refused one says why, without the URL's password.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "plugins/ratelimit_redis/redis_url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto address = portico::ratelimit_redis::parse_redis_url(url, error);
  if (!address) {
    if (error.empty()) std::abort();
    return 0;
  }
  if (address->host.empty() == address->socket_path.empty()) std::abort();
  if (!address->socket_path.empty() && address->socket_path.front() != '/') std::abort();
  if (address->port < 1 || address->port > 65535) std::abort();
  if (address->db < 0 || address->db > 65535) std::abort();
  return 0;
}
