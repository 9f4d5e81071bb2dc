// Reading requests off raw bytes: the RFC 9112 framing rules Beast leaves to the server
// (Transfer-Encoding other than chunked, Host, obs-fold) and trailers kept out of the headers.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/http/request_reader.hpp"

namespace portico::http {
namespace {

struct Read {
  ReadStep step = ReadStep::need_more;
  std::optional<Problem> problem;
  std::optional<Request> request;
  std::string rest;  // bytes left after the request (a pipelined one)
};

Read read(const std::string& bytes) {
  boost::beast::flat_buffer buffer;
  auto space = buffer.prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  buffer.commit(bytes.size());
  Request request;
  RequestReader reader(16 << 10, 1 << 20, request);
  Read out;
  out.step = reader.read_header(buffer);
  if (out.step == ReadStep::done) out.step = reader.read_body(buffer);
  out.problem = reader.problem();
  if (out.step == ReadStep::done) {
    reader.finish_request("192.0.2.1", 64);
    out.request = std::move(request);
  }
  out.rest.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
  return out;
}

TEST(RequestReader, ReadsAPlainRequestAndLeavesThePipelinedOne) {
  Read r = read(
      "POST /v1/hello?x=1 HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}"
      "GET / HTTP/1.1\r\nHost: gw\r\n\r\n");
  ASSERT_EQ(r.step, ReadStep::done);
  EXPECT_EQ(r.request->path, "/v1/hello");
  EXPECT_EQ(r.request->query, "x=1");
  EXPECT_EQ(r.request->body, "{}");
  EXPECT_EQ(r.request->max_json_depth, 64);
  EXPECT_EQ(r.rest, "GET / HTTP/1.1\r\nHost: gw\r\n\r\n");
}

// Issue 14: each of these used to be served, with the bytes after the header read as a second
// request (smuggling behind a proxy that frames the body differently).
TEST(RequestReader, TransferCodingsOtherThanChunkedAre400) {
  for (const std::string coding :
       {"gzip", "identity", "xchunked", "chunked, identity", "gzip, chunked", "chunked;q=1"}) {
    Read r = read("POST /v1/hello HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: " + coding +
                  "\r\n\r\nGET /v1/hello HTTP/1.1\r\nHost: gw\r\n\r\n");
    EXPECT_EQ(r.step, ReadStep::failed) << coding;
    ASSERT_TRUE(r.problem) << coding;
    EXPECT_EQ(r.problem->status, 400) << coding;
    EXPECT_EQ(r.problem->code, "invalid_request") << coding;
  }
  Read twice = read(
      "POST /v1/hello HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
      "chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(twice.step, ReadStep::failed);
  Read old = read("POST /v1/hello HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(old.step, ReadStep::failed);
  ASSERT_TRUE(old.problem);
  EXPECT_NE(old.problem->detail.find("HTTP/1.0"), std::string::npos);
}

TEST(RequestReader, ChunkedAloneIsRead) {
  Read r = read(
      "POST /v1/hello HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding:  Chunked \r\n\r\n"
      "2\r\n{}\r\n0\r\n\r\n");
  ASSERT_EQ(r.step, ReadStep::done);
  EXPECT_EQ(r.request->body, "{}");
}

TEST(RequestReader, FoldedFieldValuesAre400) {
  for (const std::string header : {"Transfer-Encoding:\r\n chunked", "X-Note: a\r\n\tb",
                                   "Transfer-Encoding: gzip\r\n chunked"}) {
    Read r =
        read("POST /v1/hello HTTP/1.1\r\nHost: gw\r\n" + header + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.step, ReadStep::failed) << header;
    ASSERT_TRUE(r.problem) << header;
    EXPECT_EQ(r.problem->status, 400);
  }
}

TEST(RequestReader, HostIsRequiredOnceOnHttp11) {
  EXPECT_EQ(read("GET /healthz HTTP/1.1\r\n\r\n").step, ReadStep::failed);
  EXPECT_EQ(read("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").step, ReadStep::failed);
  EXPECT_EQ(read("GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n").step, ReadStep::failed);
  EXPECT_EQ(read("GET /healthz HTTP/1.0\r\n\r\n").step, ReadStep::done);
  EXPECT_EQ(read("GET /healthz HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").step, ReadStep::done);
  Read r = read("GET /healthz HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->detail.find("Host"), std::string::npos);
}

// Issue 14: an X-API-Key or X-Forwarded-For sent as a chunked trailer authenticated the request
// or moved the client IP.
TEST(RequestReader, TrailersNeverBecomeHeaders) {
  Read r = read(
      "POST /v1/orders HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n"
      "X-Forwarded-For: 198.51.100.1\r\n\r\n"
      "2\r\n{}\r\n0\r\nX-API-Key: pk_test_stolen\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n");
  ASSERT_EQ(r.step, ReadStep::done);
  EXPECT_FALSE(r.request->header("X-API-Key"));
  EXPECT_EQ(r.request->header("X-Forwarded-For"), "198.51.100.1");
  int forwarded = 0;
  for (const auto& [name, value] : r.request->headers) forwarded += name == "X-Forwarded-For";
  EXPECT_EQ(forwarded, 1);
}

TEST(RequestReader, PartialHeadersWaitForMore) {
  boost::beast::flat_buffer buffer;
  Request request;
  RequestReader reader(16 << 10, 1 << 20, request);
  const std::string part = "GET /healthz HTTP/1.1\r\nHo";
  auto space = buffer.prepare(part.size());
  std::memcpy(space.data(), part.data(), part.size());
  buffer.commit(part.size());
  EXPECT_EQ(reader.read_header(buffer), ReadStep::need_more);
  const std::string rest = "st: gw\r\n\r\n";
  space = buffer.prepare(rest.size());
  std::memcpy(space.data(), rest.data(), rest.size());
  buffer.commit(rest.size());
  EXPECT_EQ(reader.read_header(buffer), ReadStep::done);
}

TEST(RequestReader, OversizedHeadersAre431) {
  Request request;
  RequestReader reader(1024, 1 << 20, request);
  boost::beast::flat_buffer buffer;
  const std::string bytes = "GET / HTTP/1.1\r\nX-Pad: " + std::string(4096, 'p');
  auto space = buffer.prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  buffer.commit(bytes.size());
  EXPECT_EQ(reader.read_header(buffer), ReadStep::failed);
  ASSERT_TRUE(reader.problem());
  EXPECT_EQ(reader.problem()->status, 431);
}

}  // namespace
}  // namespace portico::http

namespace portico::http {
namespace {

// The bytes as a socket may hand them over: one at a time. Beast takes the request line and
// whole fields before the header section is complete; what it took is in the Request at once,
// and the framing checks see every byte, whatever the cut.
Read read_byte_by_byte(const std::string& bytes) {
  boost::beast::flat_buffer buffer;
  Request request;
  RequestReader reader(16 << 10, 1 << 20, request);
  Read out;
  std::size_t at = 0;
  auto one_more = [&] {
    if (at == bytes.size()) return false;
    auto space = buffer.prepare(1);
    *static_cast<char*>(space.data()) = bytes[at++];
    buffer.commit(1);
    return true;
  };
  out.step = reader.read_header(buffer);
  while (out.step == ReadStep::need_more && one_more()) out.step = reader.read_header(buffer);
  if (out.step == ReadStep::done) out.step = reader.read_body(buffer);
  while (out.step == ReadStep::need_more && one_more()) out.step = reader.read_body(buffer);
  out.problem = reader.problem();
  if (out.step == ReadStep::done) {
    reader.finish_request("192.0.2.1", 64);
    out.request = std::move(request);
  }
  out.rest.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
  out.rest += bytes.substr(at);
  return out;
}

TEST(RequestReader, ARequestCutIntoSingleBytesReadsAsWhole) {
  const std::string bytes =
      "POST /v1/orders?dry_run=true HTTP/1.1\r\nHost: gw\r\nX-API-Key: pk_test_abc\r\n"
      "Transfer-Encoding: chunked\r\nX-Empty:\r\n\r\n"
      "2\r\n{}\r\n1\r\n \r\n0\r\nX-Trailer: dropped\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: gw\r\n\r\n";
  const Read whole = read(bytes);
  const Read cut = read_byte_by_byte(bytes);
  for (const Read* r : {&whole, &cut}) {
    ASSERT_EQ(r->step, ReadStep::done);
    EXPECT_EQ(r->request->method, "POST");
    EXPECT_EQ(r->request->target, "/v1/orders?dry_run=true");
    EXPECT_EQ(r->request->path, "/v1/orders");
    EXPECT_EQ(r->request->query, "dry_run=true");
    EXPECT_EQ(r->request->body, "{} ");
    ASSERT_EQ(r->request->headers.size(), 4u);
    EXPECT_EQ(r->request->headers[1].first, "X-API-Key");
    EXPECT_EQ(r->request->headers[1].second, "pk_test_abc");
    EXPECT_EQ(r->request->headers[3].first, "X-Empty");
    EXPECT_EQ(r->request->headers[3].second, "");
    EXPECT_FALSE(r->request->header("X-Trailer"));
  }
  EXPECT_EQ(cut.rest, "GET / HTTP/1.1\r\nHost: gw\r\n\r\n");
}

// A fold is refused wherever the bytes are cut, including between the CR LF that ends a field
// (taken by Beast with the field) and the space that folds it.
TEST(RequestReader, AFoldIsRefusedWhateverTheCut) {
  for (const std::string fold :
       {"X-A: one\r\n two\r\n", "X-A: one\r\n\ttwo\r\n", "X-A:\r\n two\r\n", "X-A: \r\n\r\n"}) {
    const std::string bytes = "GET / HTTP/1.1\r\nHost: gw\r\n" + fold + "\r\n";
    const bool is_fold = fold != "X-A: \r\n\r\n";
    for (const Read& r : {read(bytes), read_byte_by_byte(bytes)}) {
      if (!is_fold) {
        EXPECT_EQ(r.step, ReadStep::done) << fold;  // an empty value, then the end: no fold
        continue;
      }
      EXPECT_EQ(r.step, ReadStep::failed) << fold;
      ASSERT_TRUE(r.problem) << fold;
      EXPECT_EQ(r.problem->status, 400) << fold;
      EXPECT_NE(r.problem->detail.find("obs-fold"), std::string::npos) << r.problem->detail;
    }
  }
}

// A connection fills one Request again for each request: what the last one had and this one has
// not (a query, headers, a body, the id and identity the pipeline set) is gone, and a request
// like the last one reuses the memory of its strings.
TEST(RequestReader, ARequestFilledAgainKeepsNothingOfTheLastOne) {
  auto fill = [](Request& into, const std::string& bytes) {
    boost::beast::flat_buffer buffer;
    auto space = buffer.prepare(bytes.size());
    std::memcpy(space.data(), bytes.data(), bytes.size());
    buffer.commit(bytes.size());
    RequestReader reader(16 << 10, 1 << 20, into);
    ASSERT_EQ(reader.read_header(buffer), ReadStep::done);
    ASSERT_EQ(reader.read_body(buffer), ReadStep::done);
    reader.finish_request("192.0.2.1", 64);
  };
  Request r;
  fill(r, "POST /v1/orders?dry_run=true HTTP/1.1\r\nHost: gw\r\nX-API-Key: pk_test_a_long_key_value\r\n"
          "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(r.query, "dry_run=true");
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(r.headers.size(), 4u);
  r.request_id = "req_from_the_pipeline";
  r.identity = std::make_shared<Identity>();
  const char* key_memory = r.headers[1].second.data();

  fill(r, "GET /v1/products/p1 HTTP/1.1\r\nHost: gw\r\nX-API-Key: pk_test_another_long_key\r\n\r\n");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/v1/products/p1");
  EXPECT_EQ(r.path, "/v1/products/p1");
  EXPECT_EQ(r.query, "");
  EXPECT_EQ(r.body, "");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(*r.header("X-API-Key"), "pk_test_another_long_key");
  EXPECT_FALSE(r.header("Content-Type"));
  EXPECT_EQ(r.headers[1].second.data(), key_memory);  // the value went where the last one was
  EXPECT_EQ(r.request_id, "");
  EXPECT_EQ(r.identity, nullptr);
  EXPECT_EQ(r.client_ip, "192.0.2.1");
}

}  // namespace
// The plain header sections are read without Beast (RequestParser::put_plain_head); every other
// goes to Beast. Each section here is read both ways, whole: the outcome, the Request and the
// bytes left must be the same, and the plain ones must not have reached Beast at all.
struct Both {
  Read read;
  bool keep_alive = false;
  bool head = false;
  unsigned version = 0;
  bool beast_took_some = false;
};

Both read_with(const std::string& bytes, bool plain_heads, std::size_t max_header) {
  boost::beast::flat_buffer buffer;
  auto space = buffer.prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  buffer.commit(bytes.size());
  Request request;
  RequestReader reader(max_header, 1 << 20, request, plain_heads);
  Both out;
  out.read.step = reader.read_header(buffer);
  if (out.read.step == ReadStep::done) out.read.step = reader.read_body(buffer);
  out.read.problem = reader.problem();
  out.keep_alive = reader.keep_alive();
  out.head = reader.head();
  out.version = reader.version();
  out.beast_took_some = reader.parser().got_some();
  if (out.read.step == ReadStep::done) out.read.request = std::move(request);
  out.read.rest.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
  return out;
}

void expect_same_both_ways(const std::string& bytes, bool plain,
                           std::size_t max_header = 16 << 10) {
  SCOPED_TRACE(bytes);
  const Both fast = read_with(bytes, true, max_header);
  const Both beast = read_with(bytes, false, max_header);
  EXPECT_EQ(fast.beast_took_some, !plain);
  ASSERT_EQ(fast.read.step, beast.read.step);
  ASSERT_EQ(fast.read.problem.has_value(), beast.read.problem.has_value());
  if (fast.read.problem) {
    EXPECT_EQ(fast.read.problem->status, beast.read.problem->status);
    EXPECT_EQ(fast.read.problem->detail, beast.read.problem->detail);
  }
  EXPECT_EQ(fast.read.rest, beast.read.rest);
  if (fast.read.step != ReadStep::done) return;
  EXPECT_EQ(fast.keep_alive, beast.keep_alive);
  EXPECT_EQ(fast.head, beast.head);
  EXPECT_EQ(fast.version, beast.version);
  const Request& a = *fast.read.request;
  const Request& b = *beast.read.request;
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.query, b.query);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.headers, b.headers);
}

TEST(RequestReader, PlainHeaderSectionsReadAsBeastReadsThem) {
  const std::string next = "GET /next HTTP/1.1\r\nHost: gw\r\n\r\n";
  for (const std::string plain : {
           "GET / HTTP/1.1\r\nHost: gw\r\n\r\n",
           "GET /v1/products/p1?a=1&b=%20 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-API-Key: "
           "pk_x\r\n\r\n",
           "HEAD /h HTTP/1.1\r\nhOsT: gw\r\n\r\n",
           "GET /old HTTP/1.0\r\n\r\n",
           "DELETE /v1/webhooks/w1 HTTP/1.1\r\nHost: gw\r\nX-Empty:\r\nX-Spaces: \t a \t b "
           "\t\r\n\r\n",
           "PATCHY /x?# HTTP/1.1\r\nHost: gw\r\nX~!#$%&'*+-.^_`|: v\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: gw\r\nHost: gw2\r\n\r\n",  // two: 400, both ways
           "GET / HTTP/1.1\r\nHost: g w\r\n\r\n",              // not a host: 400
           "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n",                 // no Host on 1.1: 400
           "GET / HTTP/1.1\r\nHost: gw\r\nContent-Lengthy: 5\r\n\r\n",
       }) {
    expect_same_both_ways(plain, true);
    expect_same_both_ways(plain + next, true);
  }
  for (const std::string other : {
           "POST / HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}",
           "POST / HTTP/1.1\r\nHost: gw\r\ncontent-length: 0\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
           "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: gw\r\nProxy-Connection: close\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: gw\r\nX-A: one\r\n two\r\n\r\n",  // obs-fold
           "GET / HTTP/1.1\r\nHost: gw\r\nX-A: caf\xc3\xa9\r\n\r\n",  // obs-text
           "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: gw\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: gw\r\nX-A: a\x7f\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: gw\r\nX-A: a\rb\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: gw\r\nX-A: a\nb\r\n\r\n",
           "GET / HTTP/1.1\nHost: gw\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: gw\n\n",
           "GET  / HTTP/1.1\r\nHost: gw\r\n\r\n",
           "GET / HTTP/2.0\r\nHost: gw\r\n\r\n",
           "GET / http/1.1\r\nHost: gw\r\n\r\n",
           "GET / HTTP/1.1 \r\nHost: gw\r\n\r\n",
           "G(T / HTTP/1.1\r\nHost: gw\r\n\r\n",
           "GET / HTTP/1.1\r\nHost : gw\r\n\r\n",
           "GET / HTTP/1.1\r\n: gw\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: gw\r\n\r",  // not whole yet
           "\r\nGET / HTTP/1.1\r\nHost: gw\r\n\r\n",
       }) {
    expect_same_both_ways(other, false);
  }
  // Many fields: the scan notes where the first sixteen end and finds the others again.
  for (const int count : {15, 16, 17, 40}) {
    std::string many = "GET /many HTTP/1.1\r\nHost: gw\r\n";
    for (int i = 1; i < count; ++i) {
      many += "X-F" + std::to_string(i) + ":" + std::string(i % 3, ' ') + "v" + std::to_string(i) +
              std::string(i % 2, '\t') + "\r\n";
    }
    many += "\r\n";
    expect_same_both_ways(many, true);
    expect_same_both_ways(many + next, true);
    const Both read = read_with(many, true, 16 << 10);
    ASSERT_TRUE(read.read.request);
    ASSERT_EQ(read.read.request->headers.size(), static_cast<std::size_t>(count));
    EXPECT_EQ(read.read.request->headers.back().second, "v" + std::to_string(count - 1));
  }
  // At the header limit: a section that fits is read without Beast, one byte more is Beast's 431.
  const std::string at_limit =
      "GET / HTTP/1.1\r\nHost: gw\r\nX-Pad: " + std::string(64, 'p') + "\r\n\r\n";
  expect_same_both_ways(at_limit, true, at_limit.size());
  expect_same_both_ways(at_limit, false, at_limit.size() - 1);
}

}  // namespace portico::http
