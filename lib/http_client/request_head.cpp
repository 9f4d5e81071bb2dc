// Validation of an OutgoingRequest and the bytes of its head (request line and header fields),
// kept apart from the I/O so the rules for what is sent read in one place.
#include <string_view>

#include "lib/http_client/internals.hpp"

namespace portico::http_client::detail {

namespace {

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms >= 1000 && ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

std::string bare_host(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

std::string validate(const OutgoingRequest& r) {
  if (r.method.empty()) return "no method";
  for (char c : r.method) {
    if (!is_token_char(c)) return "invalid method '" + r.method + "'";
  }
  if (r.scheme != "http" && r.scheme != "https") {
    return "unsupported scheme '" + r.scheme + "' (only http and https)";
  }
  if (bare_host(r.host).empty()) return "no host";
  for (char c : r.host) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '/' || c == '@') {
      return "invalid host";
    }
  }
  if (r.port == 0) return "no port";
  if (r.target.empty() || r.target.front() != '/') return "the target must start with '/'";
  for (char c : r.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return "invalid character in target";
  }
  for (const auto& [name, value] : r.headers) {
    if (name.empty()) return "empty header name";
    for (char c : name) {
      if (!is_token_char(c)) return "invalid header name '" + name + "'";
    }
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') return "invalid value for header '" + name + "'";
    }
  }
  return {};
}

bool sends_body_headers(const OutgoingRequest& request) {
  return !request.body.empty() || request.method == "POST" || request.method == "PUT" ||
         request.method == "OPTIONS";
}

std::string request_head(const OutgoingRequest& request, const std::string& host,
                         const ClientOptions& o) {
  const bool tls = request.scheme == "https";
  const bool body_headers = sends_body_headers(request);
  bool custom_agent = false, custom_type = false;
  std::size_t size = 128 + request.target.size() + request.host.size() + o.user_agent.size();
  for (const auto& [name, value] : request.headers) {
    size += name.size() + value.size() + 4;
    custom_agent = custom_agent || iequals(name, "user-agent");
    custom_type = custom_type || iequals(name, "content-type");
  }
  std::string head;
  head.reserve(size);
  head.append(request.method).append(" ").append(request.target).append(" HTTP/1.1\r\nHost: ");
  if (host.find(':') != std::string::npos) {
    head.append("[").append(host).append("]");
  } else {
    head.append(host);
  }
  if (request.port != (tls ? 443 : 80)) head.append(":").append(std::to_string(request.port));
  head.append("\r\n");
  if (!custom_agent) head.append("User-Agent: ").append(o.user_agent).append("\r\n");
  if (body_headers) {
    if (!custom_type) head.append("Content-Type: application/json\r\n");
    head.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
  }
  if (!request.keep_alive) head.append("Connection: close\r\n");
  for (const auto& [name, value] : request.headers) {
    if (iequals(name, "host") || iequals(name, "content-length") ||
        iequals(name, "transfer-encoding") || iequals(name, "connection")) {
      continue;
    }
    head.append(name).append(": ").append(value).append("\r\n");
  }
  head.append("\r\n");
  return head;
}

}  // namespace portico::http_client::detail
