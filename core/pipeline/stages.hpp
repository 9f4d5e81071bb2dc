// The partner pipeline stages, one factory each, in the order standard_stages() puts them:
// client IP → client guard (pre-auth IP limit, lockout) → route → authenticate → IP allow-list →
// tier rate limit → scope → handler.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/pipeline/cidr.hpp"
#include "core/pipeline/stage.hpp"

namespace portico::pipeline {

// Parses server.trusted_proxies. Throws std::invalid_argument naming the first bad entry.
std::vector<Cidr> parse_trusted_proxies(const std::vector<std::string>& entries);

// The client's address: the socket peer, unless the peer is a trusted proxy; then the right-most
// X-Forwarded-For address that is not itself a trusted proxy (all X-Forwarded-For lines, in
// order, form one list). A malformed entry ends the walk at the last good address to its right.
// Returns canonical text; the peer as given when it does not parse.
std::string resolve_client_ip(std::string_view peer, const HeaderList& headers,
                              const std::vector<Cidr>& trusted_proxies);

std::unique_ptr<Stage> client_ip_stage(std::vector<Cidr> trusted_proxies);
std::unique_ptr<Stage> client_guard_stage();
std::unique_ptr<Stage> route_stage();
std::unique_ptr<Stage> authenticate_stage();
std::unique_ptr<Stage> allow_list_stage();
std::unique_ptr<Stage> rate_limit_stage();
std::unique_ptr<Stage> scope_stage();
std::unique_ptr<Stage> handler_stage();

// Runs a route's handler on the calling thread and waits for its answer, at most `timeout` (then
// 504 handler_timeout, the request cancelled). For the admin listener, whose own thread may wait.
Response call_route_and_wait(const Route& route, const Request& request,
                             std::chrono::milliseconds timeout);

}  // namespace portico::pipeline
