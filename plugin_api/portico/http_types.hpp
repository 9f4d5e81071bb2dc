// HTTP request and response as plain values: what a route handler sees and returns.
// No Beast here; the core converts at the edge.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "portico/identity.hpp"

namespace portico {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Decodes %XX and '+' (form/query encoding). Invalid escapes are kept literally.
inline std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else if (in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// Splits "a=1&b=two" into decoded pairs, in order; repeated keys are kept.
inline std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(percent_decode(part), std::string{});
    } else {
      out.emplace_back(percent_decode(part.substr(0, eq)), percent_decode(part.substr(eq + 1)));
    }
  }
  return out;
}

struct Request {
  std::string method;  // "GET"
  std::string target;  // as received: "/v1/products?limit=5"
  std::string path;    // "/v1/products" (not decoded)
  std::string query;   // "limit=5" (raw, without '?')
  HeaderList headers;  // names as received; look up with header()
  std::string body;
  std::string client_ip;                           // after trusted-proxy resolution
  std::string request_id;                          // also in X-Request-Id and problem bodies
  std::map<std::string, std::string> path_params;  // "{id}" captures of the matched route
  std::shared_ptr<const Identity> identity;        // null on unauthenticated routes
  // Since API 1.3: the operator's server.max_json_depth; sdk::parse_json_body honours it.
  int max_json_depth = 64;

  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (iequals(key, name)) return std::string_view(value);
    }
    return std::nullopt;
  }
  std::optional<std::string> query_param(std::string_view name) const {
    for (auto& [key, value] : parse_query(query)) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
  const std::string& param(const std::string& name) const {
    static const std::string empty;
    auto it = path_params.find(name);
    return it == path_params.end() ? empty : it->second;
  }
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;
  std::string content_type = "application/json";

  void set_header(std::string name, std::string value) {
    for (auto& [key, existing] : headers) {
      if (iequals(key, name)) {
        existing = std::move(value);
        return;
      }
    }
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (iequals(key, name)) return std::string_view(value);
    }
    return std::nullopt;
  }

  static Response json(int status, const nlohmann::json& body) {
    Response response;
    response.status = status;
    response.body = body.dump();
    return response;
  }
};

// Since API 3.0: a response made once and sent many times — a cache's rendered answer, with its
// headers. Immutable and shared: answering with one copies nothing and allocates nothing.
using SharedResponse = std::shared_ptr<const Response>;

// Since API 3.0: what a route handler answers with through its Reply — a Response of its own, or
// a SharedResponse. Either converts implicitly (`reply(std::move(response))`, `reply(cached)`);
// the core reads both as a Response.
class Answer {
 public:
  Answer() = default;                                         // an empty 200 (as Response{})
  Answer(Response response) : value_(std::move(response)) {}  // NOLINT: implicit
  // Throws std::invalid_argument for a null pointer.
  Answer(SharedResponse shared) : value_(std::move(shared)) {  // NOLINT: implicit
    if (!std::get<SharedResponse>(value_)) throw std::invalid_argument("Answer: null SharedResponse");
  }

  const Response& response() const {
    if (const auto* shared = std::get_if<SharedResponse>(&value_)) return **shared;
    return std::get<Response>(value_);
  }
  // Null for a Response of the handler's own.
  const SharedResponse& shared() const {
    static const SharedResponse none;
    const auto* shared = std::get_if<SharedResponse>(&value_);
    return shared ? *shared : none;
  }
  // The response to change: the handler's own, or a copy of the shared one taken now.
  Response& own() {
    if (const auto* shared = std::get_if<SharedResponse>(&value_)) {
      Response copy = **shared;
      value_ = std::move(copy);
    }
    return std::get<Response>(value_);
  }
  // The response as a value of the caller's: moved out, or copied from the shared one.
  Response take() && { return std::move(own()); }

 private:
  std::variant<Response, SharedResponse> value_;
};

}  // namespace portico
