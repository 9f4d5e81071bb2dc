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
  RequestReader reader(16 << 10, 1 << 20);
  Read out;
  out.step = reader.read_header(buffer);
  if (out.step == ReadStep::done) out.step = reader.read_body(buffer);
  out.problem = reader.problem();
  if (out.step == ReadStep::done) reader.take_request(out.request.emplace(), "192.0.2.1", 64);
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
  RequestReader reader(16 << 10, 1 << 20);
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
  RequestReader reader(1024, 1 << 20);
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

// A connection's readers, one after another, keeping their fields in one FieldArena (reset
// between them, as the session does): each request reads whole, a header larger than the arena
// spills to the heap and still reads whole, and the arena's memory is handed out again.
TEST(RequestReader, ReadersOfOneConnectionShareAFieldArena) {
  FieldArena arena;
  std::string scratch;
  auto read_with_arena = [&](const std::string& bytes) {
    boost::beast::flat_buffer buffer;
    auto space = buffer.prepare(bytes.size());
    std::memcpy(space.data(), bytes.data(), bytes.size());
    buffer.commit(bytes.size());
    arena.reset();
    RequestReader reader(16 << 10, 1 << 20, &scratch, &arena);
    EXPECT_EQ(reader.read_header(buffer), ReadStep::done);
    EXPECT_EQ(reader.read_body(buffer), ReadStep::done);
    Request request;
    reader.take_request(request, "192.0.2.1", 64);
    return request;
  };
  for (int i = 0; i < 3; ++i) {
    Request r = read_with_arena("GET /v1/products/prod_00000" + std::to_string(i) +
                                " HTTP/1.1\r\nHost: gw\r\nX-API-Key: pk_test_abc\r\n\r\n");
    EXPECT_EQ(r.path, "/v1/products/prod_00000" + std::to_string(i));
    ASSERT_TRUE(r.header("X-API-Key"));
    EXPECT_EQ(*r.header("X-API-Key"), "pk_test_abc");
  }
  const std::string big(FieldArena::kBytes * 2, 'v');  // more than the arena holds
  Request r = read_with_arena("GET /big HTTP/1.1\r\nHost: gw\r\nX-One: " + big + "\r\nX-Two: " +
                              big + "\r\n\r\n");
  ASSERT_TRUE(r.header("X-One"));
  EXPECT_EQ(*r.header("X-One"), big);
  ASSERT_TRUE(r.header("X-Two"));
  EXPECT_EQ(*r.header("X-Two"), big);
  EXPECT_EQ(r.path, "/big");
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
    RequestReader reader(16 << 10, 1 << 20);
    ASSERT_EQ(reader.read_header(buffer), ReadStep::done);
    ASSERT_EQ(reader.read_body(buffer), ReadStep::done);
    reader.take_request(into, "192.0.2.1", 64);
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

TEST(FieldArena, HandsOutItsBufferThenTheHeapAndStartsOverOnReset) {
  FieldArena arena;
  FieldAllocator<char> alloc(&arena);
  char* first = alloc.allocate(100);
  char* second = alloc.allocate(100);
  EXPECT_NE(first, second);
  char* big = alloc.allocate(FieldArena::kBytes);  // no room: the heap
  alloc.deallocate(big, FieldArena::kBytes);
  alloc.deallocate(second, 100);
  alloc.deallocate(first, 100);
  arena.reset();
  EXPECT_EQ(alloc.allocate(100), first);  // the buffer from its start again
  FieldAllocator<int> rebound(alloc);
  EXPECT_TRUE(rebound == alloc);
  EXPECT_TRUE(FieldAllocator<char>() != alloc);
}

}  // namespace
}  // namespace portico::http
