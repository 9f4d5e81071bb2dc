// The one place a Problem becomes an HTTP response (RFC 9457 application/problem+json), and the
// problems the core itself raises.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "portico/http_types.hpp"
#include "portico/problem.hpp"

namespace portico::pipeline {

// Body members: type, title, status, detail, code, request_id (+ errors when present).
Response problem_response(const Problem& problem, std::string_view request_id);
// The same answer, written into a response the thread reuses: a shared one that goes back to the
// pool of the thread that lets go of it last (once the connection has sent it), keeping its
// strings' memory, so that the next problem — the 401 of a flood of bad keys — allocates nothing.
Answer problem_answer(const Problem& problem, std::string_view request_id);
// The same for a problem made once and shared (an auth scheme's one refusal, API 3.0): its body is
// rendered once per thread, and each answer only writes the request id into it.
Answer problem_answer(const std::shared_ptr<const Problem>& problem, std::string_view request_id);

Problem route_not_found(std::string_view method, std::string_view path);
Problem method_not_allowed(std::string_view method, const std::vector<std::string>& allowed);
Problem payload_too_large(std::size_t limit);
Problem header_too_large(std::size_t limit);
Problem bad_request(std::string detail);
Problem request_timeout();
Problem internal_error();
Problem service_unavailable(std::string detail);
// 503 storage_unavailable with Retry-After: the store failed, not the request.
Problem storage_unavailable();
// 504 handler_timeout: no answer within server.handler_timeout.
Problem handler_timeout_problem();
// 499 client_closed_request: logged (never sent) when the client left before its answer.
Problem client_closed_problem();
// What an exception that is not a ProblemError answers: storage_unavailable for
// StorageUnavailable, internal_error for anything else.
Problem error_problem(const std::exception& error);

}  // namespace portico::pipeline
