// The access log's line: one JSON object per partner request (CONTRACT.md's fields, in order),
// each field bounded and escaped so hostile text stays one valid line, and text shaped like an API
// key or webhook secret redacted. Formatted into a buffer of the thread's own: no allocation after
// a thread's first line. The log that batches and writes the lines: access_log.hpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace portico::observability {

struct AccessRecord {
  std::chrono::system_clock::time_point time;  // when the request was received
  std::string_view request_id;
  std::optional<std::string_view> partner_id;  // set when the caller authenticated
  std::optional<std::string_view> key_id;      // the credential's id, never the key
  std::string_view method;
  std::optional<std::string_view> route;  // the matched pattern, e.g. /v1/products/{id}
  std::string_view path;                  // without the query string
  int status = 0;
  std::chrono::nanoseconds duration{};
  std::size_t bytes = 0;  // response body
  std::string_view client_ip;
  std::string_view user_agent;
};

// The JSON object of one line (no newline): time (RFC 3339, ms, UTC), request_id, partner_id,
// key_id, method, route, path, status, duration_ms, bytes, client_ip, user_agent.
std::string format_access_line(const AccessRecord& record);
// The same line appended to `out`: no allocation once `out` has the capacity for it.
void append_access_line(std::string& out, const AccessRecord& record);

// `text` with anything shaped like an API key or webhook secret (pk_live_…, pk_test_…, whsec_…)
// replaced by its prefix and "[redacted]".
std::string redact_secrets(std::string_view text);

// The line with its newline, in this thread's buffer (made at its first line for the longest line
// there can be, and kept): valid until the thread formats its next line.
std::string_view access_line(const AccessRecord& record);

}  // namespace portico::observability
