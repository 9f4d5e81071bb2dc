// Client IP resolution: the socket peer, or what trusted proxies say in X-Forwarded-For.
#include <cstring>
#include <stdexcept>

#include "core/pipeline/snapshot.hpp"
#include "core/pipeline/stages.hpp"

namespace portico::pipeline {
namespace {

// Every X-Forwarded-For entry, left to right, across repeated header lines.
std::vector<std::string_view> forwarded_for(const HeaderList& headers) {
  std::vector<std::string_view> entries;
  for (const auto& [name, value] : headers) {
    if (!iequals(name, "X-Forwarded-For")) continue;
    std::string_view rest = value;
    while (true) {
      auto comma = rest.find(',');
      entries.push_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return entries;
}

// is_canonical_ipv4, with this thread's last address found canonical remembered: a connection's
// requests come from one address, so most are a comparison of a few bytes.
bool canonical_ipv4(std::string_view ip) {
  thread_local std::string last;
  if (!last.empty() && ip.size() == last.size() &&
      std::memcmp(ip.data(), last.data(), ip.size()) == 0) {
    return true;
  }
  if (!is_canonical_ipv4(ip)) return false;
  last.assign(ip);
  return true;
}

class ClientIpStage final : public Stage {
 public:
  explicit ClientIpStage(std::vector<Cidr> trusted) : trusted_(std::move(trusted)) {}
  std::string_view name() const override { return "client_ip"; }
  StageStatus run(Exchange& ex) const override {
    // Without trusted proxies the client is the peer, written canonically: an address already in
    // that form (every IPv4 peer the connection reports) is left as it is, unparsed.
    if (trusted_.empty() && canonical_ipv4(ex.request.client_ip)) return StageStatus::Continue;
    ex.request.client_ip = resolve_client_ip(ex.request.client_ip, ex.request.headers, trusted_);
    return StageStatus::Continue;
  }

 private:
  std::vector<Cidr> trusted_;  // parsed once per snapshot
};

}  // namespace

std::vector<Cidr> parse_trusted_proxies(const std::vector<std::string>& entries) {
  std::vector<Cidr> out;
  out.reserve(entries.size());
  for (const auto& entry : entries) {
    auto cidr = parse_cidr(entry);
    if (!cidr) {
      throw std::invalid_argument("server.trusted_proxies: '" + entry +
                                  "' is not an IPv4/IPv6 address or CIDR");
    }
    out.push_back(*cidr);
  }
  return out;
}

std::string resolve_client_ip(std::string_view peer, const HeaderList& headers,
                              const std::vector<Cidr>& trusted_proxies) {
  auto peer_ip = parse_ip(peer);
  if (!peer_ip) return std::string(peer);
  IpAddress client = *peer_ip;
  if (!trusted_proxies.empty() && any_contains(trusted_proxies, client)) {
    auto entries = forwarded_for(headers);
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      auto hop = parse_forwarded_ip(*it);
      if (!hop) break;  // garbage or "unknown": believe nothing further left
      client = *hop;
      if (!any_contains(trusted_proxies, client)) break;
    }
  }
  return client.to_string();
}

std::unique_ptr<Stage> client_ip_stage(std::vector<Cidr> trusted_proxies) {
  return std::make_unique<ClientIpStage>(std::move(trusted_proxies));
}

}  // namespace portico::pipeline
