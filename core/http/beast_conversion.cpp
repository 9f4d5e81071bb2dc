#include "core/http/beast_conversion.hpp"

#include <chrono>
#include <ctime>

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

Request to_plugin_request(BeastRequest&& req, std::string client_ip) {
  Request out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  auto question = out.target.find('?');
  if (question == std::string::npos) {
    out.path = out.target;
  } else {
    out.path = out.target.substr(0, question);
    out.query = out.target.substr(question + 1);
  }
  out.headers.reserve(16);
  for (const auto& field : req) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(req.body());
  out.client_ip = std::move(client_ip);
  return out;
}

BeastResponse to_beast_response(Response&& res, unsigned version, bool head, bool keep_alive) {
  BeastResponse out{static_cast<http::status>(res.status), version};
  out.set(http::field::server, "portico");
  out.set(http::field::date, http_date());
  bool bodyless = res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200);
  if (!bodyless && !res.content_type.empty()) out.set(http::field::content_type, res.content_type);
  for (auto& [name, value] : res.headers) out.insert(name, value);
  if (bodyless) {
    res.body.clear();
  }
  std::size_t length = res.body.size();
  out.body() = head ? std::string() : std::move(res.body);
  if (!bodyless) out.content_length(length);
  out.keep_alive(keep_alive);
  return out;
}

}  // namespace portico::http
