#include "core/http/beast_conversion.hpp"

#include <chrono>
#include <ctime>

#include "core/pipeline/header_lines.hpp"

namespace portico::http {
namespace http = boost::beast::http;

namespace {

// The Date header changes once a second; format it once per second per thread.
const std::string& http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_second = now;
  }
  return cached;
}

}  // namespace

namespace {

// Appended in one piece, then any CR or LF in it (rare: never in the gateway's own values) made a
// space — a push_back per character cost ~1.7 % of the process.
void append_field_text(std::string& out, std::string_view text) {
  const std::size_t at = out.size();
  out.append(text);
  pipeline::blank_line_breaks(out.data() + at, out.data() + out.size());
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  append_field_text(out, name);
  out.append(": ");
  append_field_text(out, value);
  out.append("\r\n");
}

}  // namespace

WireResponse to_wire_response(Answer&& answer, unsigned version, bool head_request,
                              bool keep_alive, std::string_view core_headers) {
  WireResponse out;
  write_wire_response(std::move(answer), core_headers, version, head_request, keep_alive, out);
  return out;
}

void write_wire_response(Answer&& answer, std::string_view core_headers, unsigned version,
                         bool head_request, bool keep_alive, WireResponse& out) {
  const Response& res = answer.response();
  const bool bodyless =
      res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200);
  std::string& head = out.head;
  head.clear();
  head.reserve(256 + 64 * res.headers.size() + core_headers.size());
  head.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  head.append(std::to_string(res.status)).push_back(' ');
  head.append(http::obsolete_reason(static_cast<http::status>(res.status)));
  head.append("\r\nServer: portico\r\nDate: ").append(http_date()).append("\r\n");
  if (!bodyless && !res.content_type.empty()) append_field(head, "Content-Type", res.content_type);
  for (const auto& [name, value] : res.headers) append_field(head, name, value);
  head.append(core_headers);
  if (!bodyless) head.append("Content-Length: ").append(std::to_string(res.body.size()));
  if (!bodyless) head.append("\r\n");
  if (version == 10 && keep_alive) head.append("Connection: keep-alive\r\n");
  if (version != 10 && !keep_alive) head.append("Connection: close\r\n");
  head.append("\r\n");
  out.body.clear();
  out.shared.reset();
  if (bodyless || head_request) return;
  if (answer.shared()) {
    out.shared = answer.shared();
  } else {
    out.body = std::move(answer.own().body);
  }
}

}  // namespace portico::http
