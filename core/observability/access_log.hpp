// The access log: one JSON line per partner request in `<logging.dir>/access-YYYY-MM-DD.jsonl`,
// formatted on the request thread and written by spdlog's async logger on a thread of its own.
// It holds ids, never credentials: key_id is the key's id, and key-shaped text a client puts in
// the path or User-Agent is redacted.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
namespace details {
class thread_pool;
}
}  // namespace spdlog

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

// `text` with anything shaped like an API key or webhook secret (pk_live_…, pk_test_…, whsec_…)
// replaced by its prefix and "[redacted]".
std::string redact_secrets(std::string_view text);

class AccessLog {
 public:
  // Creates `dir` and opens today's file (throws std::runtime_error naming it when it cannot).
  // `queue_size` lines may wait for the writer; beyond that, request threads wait for it rather
  // than lose lines.
  explicit AccessLog(const std::filesystem::path& dir, std::size_t queue_size = 65536);
  ~AccessLog();  // writes what is queued, then closes the file
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(const AccessRecord& record);
  // Asks the writer thread to flush the file (queued behind the lines already written).
  void flush();

 private:
  std::shared_ptr<spdlog::details::thread_pool> pool_;  // declared first: outlives the logger
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace portico::observability
