// Fuzz target: raw bytes from a client through the server's request reader and the pipeline, as a
// session handles a connection: http::RequestReader (Beast's parser with the server's limits and
// the RFC 9112 framing checks — Transfer-Encoding, Host, obs-fold, trailers) reads request after
// request from the bytes (pipelined, as long as keep-alive holds) straight into the plugins'
// Request (filled again input after input, as a connection fills its own), each one is answered by
// a pipeline::Snapshot with a few routes (open, authenticated with a scope and a path capture, a
// JSON echo, one that throws), and every answer — the pipeline's or the reader's refusal — is
// rendered to wire bytes. The first request is also read whole both ways — the reader's scan of
// plain header sections and Beast alone — and the two must agree.
//
// The first byte sets how many bytes arrive per read (1–64, 0 = everything at once), so headers
// and bodies split at every place. Snapshot::handle must never throw; a response header must
// never carry CR or LF (no response splitting); trailer fields must never become request headers.
#include <boost/beast/core/flat_buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/http/beast_conversion.hpp"
#include "core/http/request_reader.hpp"
#include "core/pipeline/problems.hpp"
#include "core/pipeline/snapshot.hpp"
#include "portico/sdk/fields.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace fuzz = portico::fuzz;
namespace http = portico::http;
namespace pipeline = portico::pipeline;
using portico::Request;
using portico::Response;

constexpr std::size_t kMaxHeader = 8 * 1024;
constexpr std::size_t kMaxBody = 64 * 1024;
constexpr int kMaxRequestsPerInput = 16;

class FixedKeyAuth final : public portico::AuthScheme {
 public:
  portico::AuthResult authenticate(const Request& request) override {
    auto key = request.header("X-API-Key");
    if (!key) return portico::AuthResult::not_mine();
    if (*key != "pk_test_good") {
      portico::Problem problem;
      problem.status = 401;
      problem.code = "unauthorized";
      problem.title = "Unauthorized";
      problem.detail = "The API key is not valid.";
      return portico::AuthResult::rejected(problem);
    }
    auto who = std::make_shared<portico::Identity>();
    who->partner_id = "ptr_fuzz";
    who->scopes = {"products:read"};
    return portico::AuthResult::authenticated(who);
  }
};

portico::Route route(std::string method, std::string path, std::string scope, bool authenticated,
                     portico::Handler handler) {
  portico::Route r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.scope = std::move(scope);
  r.authenticated = authenticated;
  r.handler = std::move(handler);
  return r;
}

const pipeline::Snapshot& snapshot() {
  static FixedKeyAuth auth;
  static const pipeline::Snapshot* const instance = [] {
    auto* s = new pipeline::Snapshot();
    s->stages = pipeline::standard_stages();
    s->auth_schemes.push_back(&auth);
    s->router.add(route("GET", "/open", "", false,
                        [](const Request& r) {
                          return Response::json(200, {{"ok", true}, {"query", r.query}});
                        }),
                  "fuzz");
    s->router.add(route("GET", "/v1/things/{id}", "products:read", true,
                        [](const Request& r) {
                          return Response::json(
                              200, {{"id", r.param("id")}, {"partner", r.identity->partner_id}});
                        }),
                  "fuzz");
    s->router.add(route("POST", "/v1/echo", "", false,
                        [](const Request& r) {
                          Response response = Response::json(200, portico::sdk::parse_json_body(r));
                          // A handler echoing a client value into a header: the writer must keep
                          // CR/LF out of it.
                          if (auto tag = r.header("X-Tag"))
                            response.set_header("X-Tag", std::string(*tag));
                          return response;
                        }),
                  "fuzz");
    s->router.add(route("PUT", "/v1/orders/{id}", "orders:write", true,
                        [](const Request&) { return Response::json(200, {}); }),
                  "fuzz");
    s->router.add(route("GET", "/boom", "", false,
                        [](const Request&) -> Response { throw std::runtime_error("kaput"); }),
                  "fuzz");
    s->on_internal_error = [](const Request&, std::string_view) {};
    s->on_warning = [](std::string_view) {};
    return s;
  }();
  return *instance;
}

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

// The status line and header block: CRLF-terminated lines, no CR or LF anywhere else.
void check_wire(const http::WireResponse& wire) {
  std::string_view head = wire.head;
  fuzz::check(head.ends_with("\r\n\r\n"), "the response head does not end with CRLF CRLF");
  head.remove_suffix(2);
  while (!head.empty()) {
    const std::size_t end = head.find("\r\n");
    fuzz::check(end != std::string_view::npos, "a response line without CRLF");
    const std::string_view line = head.substr(0, end);
    fuzz::check(!line.empty() && !has_line_break(line), "a CR or LF inside a response line", line);
    head.remove_prefix(end + 2);
  }
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

// One Request filled input after input, as a connection fills its own: nothing of an earlier
// input may show through (a stale field fails the trailer check in answer()).
Request& reused_request() {
  static Request request;
  return request;
}

// `header_section`: the request's bytes up to the end of its header section, so a field that
// reached the plugins but is not written there came from the trailers.
http::WireResponse answer(http::RequestReader& reader, std::string_view header_section) {
  const std::string raw = lowercase(header_section);
  const bool keep_alive = reader.keep_alive();
  const bool head = reader.head();
  const unsigned version = reader.version();
  reader.finish_request("203.0.113.7", portico::sdk::kDefaultMaxJsonDepth);
  Request& request = reused_request();
  for (const auto& [name, value] : request.headers) {
    fuzz::check(!has_line_break(name) && !has_line_break(value),
                "a request header with CR or LF reached the pipeline");
    fuzz::check(raw.find("\n" + lowercase(name) + ":") != std::string::npos,
                "a trailer field became a request header", name);
  }
  Response response;
  fuzz::expect_only<fuzz::Never>([&] { response = snapshot().handle(request); });
  fuzz::check(response.status >= 100 && response.status <= 599, "a status out of range");
  return http::to_wire_response(std::move(response), version, head, keep_alive);
}

http::WireResponse refusal(const portico::Problem& problem) {
  Response response = pipeline::problem_response(problem, "req_fuzz");
  response.set_header("X-Request-Id", "req_fuzz");
  return http::to_wire_response(std::move(response), 11, false, false);
}

void serve(std::size_t chunk, std::string_view bytes) {
  boost::beast::flat_buffer buffer;
  std::size_t offset = 0;
  // One read off the "socket": false at the end of the input.
  auto read_more = [&] {
    if (offset >= bytes.size()) return false;
    const std::size_t n = std::min(chunk == 0 ? bytes.size() : chunk, bytes.size() - offset);
    auto space = buffer.prepare(n);
    std::copy_n(bytes.data() + offset, n, static_cast<char*>(space.data()));
    buffer.commit(n);
    offset += n;
    return true;
  };
  for (int served = 0; served < kMaxRequestsPerInput; ++served) {
    if (buffer.size() == 0 && !read_more()) return;  // the client closed between requests
    http::RequestReader reader(kMaxHeader, kMaxBody, reused_request());
    const std::size_t start = offset - buffer.size();
    http::ReadStep step = reader.read_header(buffer);
    while (step == http::ReadStep::need_more && read_more()) step = reader.read_header(buffer);
    const std::string_view header_section = bytes.substr(start, offset - buffer.size() - start);
    if (step == http::ReadStep::done) {
      step = reader.read_body(buffer);
      while (step == http::ReadStep::need_more && read_more()) step = reader.read_body(buffer);
    }
    if (step == http::ReadStep::need_more) return;  // end of input mid-request: just close
    if (step == http::ReadStep::failed) {
      if (reader.problem()) check_wire(refusal(*reader.problem()));
      return;  // refused: answered (or not) and closed
    }
    const bool keep_alive = reader.keep_alive();
    check_wire(answer(reader, header_section));
    if (!keep_alive) return;
  }
}

// The first request of `bytes`, given whole, read with the plain-section scan and by Beast alone
// (RequestReader's plain_heads): the outcome, the Request and the bytes left must be the same.
struct ReadBack {
  http::ReadStep step = http::ReadStep::need_more;
  int refusal = 0;
  std::string detail;
  bool keep_alive = false, head = false;
  unsigned version = 0;
  Request request;
  std::string rest;
};

ReadBack read_first(std::string_view bytes, bool plain_heads) {
  boost::beast::flat_buffer buffer;
  auto space = buffer.prepare(bytes.size());
  std::copy_n(bytes.data(), bytes.size(), static_cast<char*>(space.data()));
  buffer.commit(bytes.size());
  ReadBack out;
  http::RequestReader reader(kMaxHeader, kMaxBody, out.request, plain_heads);
  out.step = reader.read_header(buffer);
  if (out.step == http::ReadStep::done) out.step = reader.read_body(buffer);
  if (reader.problem()) {
    out.refusal = reader.problem()->status;
    out.detail = reader.problem()->detail;
  }
  out.keep_alive = reader.keep_alive();
  out.head = reader.head();
  out.version = reader.version();
  out.rest.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
  return out;
}

void compare_readers(std::string_view bytes) {
  const ReadBack fast = read_first(bytes, true);
  const ReadBack beast = read_first(bytes, false);
  fuzz::check(fast.step == beast.step, "the plain-section scan and Beast end differently");
  fuzz::check(fast.refusal == beast.refusal && fast.detail == beast.detail,
              "the plain-section scan and Beast refuse differently", fast.detail);
  fuzz::check(fast.rest == beast.rest, "the plain-section scan and Beast leave different bytes");
  if (fast.step != http::ReadStep::done) return;
  const Request& a = fast.request;
  const Request& b = beast.request;
  fuzz::check(fast.keep_alive == beast.keep_alive && fast.head == beast.head &&
                  fast.version == beast.version,
              "the plain-section scan and Beast differ on keep-alive, HEAD or the version");
  fuzz::check(a.method == b.method && a.target == b.target && a.path == b.path &&
                  a.query == b.query && a.body == b.body && a.headers == b.headers,
              "the plain-section scan and Beast read a different request", a.target);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = data[0] % 65;
  const std::string_view bytes = fuzz::as_text(data + 1, size - 1);
  fuzz::expect_only<fuzz::Never>([&] { serve(chunk, bytes); });
  fuzz::expect_only<fuzz::Never>([&] { compare_readers(bytes); });
  return 0;
}
