#include "core/http/beast_conversion.hpp"

#include <charconv>
#include <chrono>
#include <ctime>

#include "core/pipeline/header_lines.hpp"
#include "core/util/put_text.hpp"

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

// "Name: value\r\n", copied in pieces, then any CR or LF inside the name or value (rare: never in
// the gateway's own values) made a space.
char* put_field(char* p, std::string_view name, std::string_view value) {
  char* const line = p;
  p = util::put_text(p, name);
  *p++ = ':';
  *p++ = ' ';
  p = util::put_text(p, value);
  pipeline::blank_line_breaks(line, p);  // ": " has neither
  *p++ = '\r';
  *p++ = '\n';
  return p;
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
  using namespace std::string_view_literals;
  const Response& res = answer.response();
  const bool bodyless =
      res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200);
  const std::string_view reason = http::obsolete_reason(static_cast<http::status>(res.status));
  const std::string& date = http_date();
  // The head is written through a pointer into room made for the most it can take: the fixed
  // lines (status digits, Content-Length and Connection included) in 128 bytes, and each
  // header's name, value and 4 bytes of ": " and CRLF. The string keeps its capacity from one
  // response to the next.
  std::size_t room = 128 + reason.size() + date.size() + core_headers.size();
  if (!bodyless) room += 16 + res.content_type.size();
  for (const auto& [name, value] : res.headers) room += name.size() + value.size() + 4;
  std::string& head = out.head;
  head.resize(room);
  char* p = head.data();
  p = util::put_text(p, version == 10 ? "HTTP/1.0 "sv : "HTTP/1.1 "sv);
  p = std::to_chars(p, p + 12, res.status).ptr;
  *p++ = ' ';
  p = util::put_text(p, reason);
  p = util::put_text(p, "\r\nServer: portico\r\nDate: "sv);
  p = util::put_text(p, date);
  p = util::put_text(p, "\r\n"sv);
  if (!bodyless && !res.content_type.empty()) p = put_field(p, "Content-Type"sv, res.content_type);
  for (const auto& [name, value] : res.headers) p = put_field(p, name, value);
  p = util::put_text(p, core_headers);
  if (!bodyless) {
    p = util::put_text(p, "Content-Length: "sv);
    p = std::to_chars(p, p + 24, res.body.size()).ptr;
    p = util::put_text(p, "\r\n"sv);
  }
  if (version == 10 && keep_alive) p = util::put_text(p, "Connection: keep-alive\r\n"sv);
  if (version != 10 && !keep_alive) p = util::put_text(p, "Connection: close\r\n"sv);
  p = util::put_text(p, "\r\n"sv);
  head.resize(static_cast<std::size_t>(p - head.data()));
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
