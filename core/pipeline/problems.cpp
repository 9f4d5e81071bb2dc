#include "core/pipeline/problems.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <memory>
#include <vector>

#include "core/util/json_text.hpp"
#include "core/util/put_text.hpp"
#include "core/util/recycling_allocator.hpp"
#include "portico/database.hpp"

namespace portico::pipeline {
namespace {

Problem make(int status, std::string code, std::string title, std::string detail) {
  Problem p;
  p.status = status;
  p.code = std::move(code);
  p.title = std::move(title);
  p.detail = std::move(detail);
  return p;
}

// The common problem — every field plain text, no field errors — written straight into its body
// (sized once, then written through a pointer) in the bytes nlohmann::json would write: its keys
// in order, no spaces. `request_id_at`, when given, is set to where the request id begins.
bool render_plain(const Problem& problem, std::string_view request_id, std::string& body,
                  std::size_t* request_id_at = nullptr) {
  using namespace std::string_view_literals;  // the constant pieces' lengths known, no strlen
  using util::plain_json_text;
  using util::put_text;
  if (!problem.errors.empty() || !plain_json_text(problem.code) ||
      !plain_json_text(problem.title) || !plain_json_text(problem.detail) ||
      !plain_json_text(request_id)) {
    return false;
  }
  char status_digits[16];
  const std::string_view status(
      status_digits,
      static_cast<std::size_t>(
          std::to_chars(status_digits, status_digits + sizeof status_digits, problem.status).ptr -
          status_digits));
  constexpr std::string_view kCode = "{\"code\":\""sv, kDetail = "\",\"detail\":\""sv,
                             kRequestId = "\",\"request_id\":\""sv, kStatus = "\",\"status\":"sv,
                             kTitle = ",\"title\":\""sv,
                             kType = "\",\"type\":\"urn:portico:problem:"sv, kEnd = "\"}"sv;
  body.resize(kCode.size() + problem.code.size() + kDetail.size() + problem.detail.size() +
              kRequestId.size() + request_id.size() + kStatus.size() + status.size() +
              kTitle.size() + problem.title.size() + kType.size() + problem.code.size() +
              kEnd.size());
  char* p = body.data();
  p = put_text(put_text(p, kCode), problem.code);
  p = put_text(put_text(p, kDetail), problem.detail);
  p = put_text(p, kRequestId);
  if (request_id_at) *request_id_at = static_cast<std::size_t>(p - body.data());
  p = put_text(p, request_id);
  p = put_text(put_text(p, kStatus), status);
  p = put_text(put_text(p, kTitle), problem.title);
  put_text(put_text(put_text(p, kType), problem.code), kEnd);
  return true;
}

// The problem's status, content type and headers into `response`, written over what it held (its
// strings keep their memory): the problem's headers, a later one of a name replacing an earlier
// one.
void render_head(const Problem& problem, Response& response) {
  response.status = problem.status;
  response.content_type.assign(std::string_view("application/problem+json"));
  HeaderList& headers = response.headers;
  std::size_t count = 0;
  for (const auto& header : problem.headers) {
    // Named, not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const std::string& name = header.first;
    const std::string& value = header.second;
    auto same = std::find_if(headers.begin(), headers.begin() + static_cast<std::ptrdiff_t>(count),
                             [&](const auto& kept) { return iequals(kept.first, name); });
    if (same != headers.begin() + static_cast<std::ptrdiff_t>(count)) {
      same->second.assign(value);
    } else if (count < headers.size()) {
      headers[count].first.assign(name);
      headers[count++].second.assign(value);
    } else {
      headers.emplace_back(name, value);
      ++count;
    }
  }
  headers.resize(count);
}

// The whole response: head, then the body.
void render_problem(const Problem& problem, std::string_view request_id, Response& response) {
  render_head(problem, response);
  response.body.clear();
  if (render_plain(problem, request_id, response.body)) return;
  nlohmann::json body = {
      {"type", "urn:portico:problem:" + problem.code},
      {"title", problem.title},
      {"status", problem.status},
      {"detail", problem.detail},
      {"code", problem.code},
      {"request_id", request_id},
  };
  if (!problem.errors.empty()) {
    auto& errors = body["errors"] = nlohmann::json::array();
    for (const auto& e : problem.errors)
      errors.push_back({{"field", e.field}, {"message", e.message}});
  }
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Responses kept by each thread for problem_answer: up to kKept, with their memory.
class ResponsePool {
 public:
  static constexpr std::size_t kKept = 16;
  ~ResponsePool() {
    gone_ = true;
    for (Response* response : kept_) delete response;
  }
  Response* take() {
    if (kept_.empty()) return new Response;
    Response* response = kept_.back();
    kept_.pop_back();
    return response;
  }
  void give_back(Response* response) noexcept {
    if (gone_ || kept_.size() >= kKept) {
      delete response;
      return;
    }
    kept_.push_back(response);  // within the capacity reserved below: no allocation, no throw
  }
  static ResponsePool& this_thread() {
    thread_local ResponsePool pool;
    return pool;
  }

 private:
  ResponsePool() { kept_.reserve(kKept); }
  std::vector<Response*> kept_;
  bool gone_ = false;  // the thread is ending: what is let go of from now on is deleted
};

struct GiveBack {
  void operator()(Response* response) const noexcept {
    ResponsePool::this_thread().give_back(response);
  }
};

}  // namespace

Response problem_response(const Problem& problem, std::string_view request_id) {
  Response response;
  render_problem(problem, request_id, response);
  return response;
}

namespace {

std::shared_ptr<Response> pooled_response() {
  return std::shared_ptr<Response>(ResponsePool::this_thread().take(), GiveBack{},
                                   util::RecyclingAllocator<Response>());
}

}  // namespace

Answer problem_answer(const Problem& problem, std::string_view request_id) {
  std::shared_ptr<Response> response = pooled_response();
  render_problem(problem, request_id, *response);
  return SharedResponse(std::move(response));
}

Answer problem_answer(const std::shared_ptr<const Problem>& shared, std::string_view request_id) {
  const Problem& problem = *shared;
  // The body of the thread's last shared problem, rendered once without a request id, and where
  // the id goes; known by the fields it is made of, kept as copies — never by holding the problem,
  // whose memory may be a plugin's (a thread outlives a reload that unloads the plugin).
  struct Rendered {
    bool made = false;
    int status = 0;
    std::string code, title, detail;
    bool plain = false;
    std::string body;
    std::size_t request_id_at = 0;
  };
  thread_local Rendered last;
  if (!last.made || last.status != problem.status || last.code != problem.code ||
      last.title != problem.title || last.detail != problem.detail || !problem.errors.empty()) {
    last.made = true;
    last.status = problem.status;
    last.code = problem.code;
    last.title = problem.title;
    last.detail = problem.detail;
    last.body.clear();
    last.plain = render_plain(problem, {}, last.body, &last.request_id_at);
  }
  if (!last.plain || !util::plain_json_text(request_id)) {
    return problem_answer(problem, request_id);
  }
  std::shared_ptr<Response> response = pooled_response();
  render_head(problem, *response);
  std::string& body = response->body;
  body.resize(last.body.size() + request_id.size());
  char* p = util::put_text(body.data(), std::string_view(last.body).substr(0, last.request_id_at));
  p = util::put_text(p, request_id);
  util::put_text(p, std::string_view(last.body).substr(last.request_id_at));
  return SharedResponse(std::move(response));
}

Problem route_not_found(std::string_view method, std::string_view path) {
  return make(404, "not_found", "Not found",
              "No route for " + std::string(method) + " " + std::string(path) + ".");
}

Problem method_not_allowed(std::string_view method, const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& m : allowed) list += (list.empty() ? "" : ", ") + m;
  Problem p =
      make(405, "method_not_allowed", "Method not allowed",
           "This path does not accept " + std::string(method) + "; it accepts " + list + ".");
  p.headers.emplace_back("Allow", list);
  return p;
}

Problem payload_too_large(std::size_t limit) {
  return make(413, "payload_too_large", "Payload too large",
              "The request body exceeds the limit of " + std::to_string(limit) + " bytes.");
}

Problem header_too_large(std::size_t limit) {
  return make(431, "header_too_large", "Request header fields too large",
              "The request headers exceed the limit of " + std::to_string(limit) + " bytes.");
}

Problem bad_request(std::string detail) {
  return make(400, "invalid_request", "Invalid request", std::move(detail));
}

Problem request_timeout() {
  return make(408, "request_timeout", "Request timeout",
              "The request was not received completely in time.");
}

Problem internal_error() {
  return make(500, "internal_error", "Internal error",
              "Something went wrong on our side. Quote the request_id when you contact support.");
}

Problem storage_unavailable() {
  Problem p = make(503, "storage_unavailable", "Storage unavailable",
                   "The gateway cannot reach its storage right now; nothing was changed by this "
                   "request. Retry after the time in Retry-After.");
  p.headers.emplace_back("Retry-After", "5");
  return p;
}

Problem error_problem(const std::exception& error) {
  if (dynamic_cast<const StorageUnavailable*>(&error)) return storage_unavailable();
  return internal_error();
}

Problem service_unavailable(std::string detail) {
  return make(503, "service_unavailable", "Service unavailable", std::move(detail));
}

Problem client_closed_problem() {
  return make(499, "client_closed_request", "Client closed request",
              "The client disconnected before the answer was ready.");
}

Problem handler_timeout_problem() {
  Problem p = make(504, "handler_timeout", "Handler timeout",
                   "The gateway did not get an answer in time (server.handler_timeout). The "
                   "request may still have taken effect: retry writes with the same "
                   "Idempotency-Key.");
  p.headers.emplace_back("Retry-After", "1");
  return p;
}

}  // namespace portico::pipeline
