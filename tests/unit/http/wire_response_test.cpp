// The response bytes the server writes itself (no Beast serializer): status line, the fixed and
// the handler's headers, Content-Length, Connection by version and keep-alive, HEAD and bodyless
// statuses, and no way for a header to split the response.
#include <gtest/gtest.h>

#include <string>

#include "core/http/beast_conversion.hpp"

namespace portico::http {
namespace {

Response sample() {
  Response r;
  r.status = 200;
  r.content_type = "application/json";
  r.body = "{\"ok\":true}";
  r.headers = {{"ETag", "\"abc\""}, {"X-Request-Id", "req_1"}};
  return r;
}

// The head without the Date line, which changes every second.
std::string without_date(const std::string& head) {
  auto at = head.find("Date: ");
  return head.substr(0, at) + head.substr(head.find("\r\n", at) + 2);
}

TEST(WireResponse, AKeptHttp11Answer) {
  auto wire = to_wire_response(sample(), 11, false, true);
  EXPECT_EQ(without_date(wire.head),
            "HTTP/1.1 200 OK\r\nServer: portico\r\nContent-Type: application/json\r\n"
            "ETag: \"abc\"\r\nX-Request-Id: req_1\r\nContent-Length: 11\r\n\r\n");
  EXPECT_NE(wire.head.find("\r\nDate: "), std::string::npos);
  EXPECT_EQ(wire.body, "{\"ok\":true}");
}

// A shared answer is written as it is: the same head, its body sent from the shared response,
// which the wire response keeps until it is written — and not even kept for a HEAD.
TEST(WireResponse, ASharedAnswerIsSentFromWhereItIs) {
  auto shared = std::make_shared<const Response>(sample());
  auto wire = to_wire_response(Answer(shared), 11, false, true);
  EXPECT_EQ(without_date(wire.head), without_date(to_wire_response(sample(), 11, false, true).head));
  EXPECT_TRUE(wire.body.empty());
  EXPECT_EQ(wire.body_bytes(), "{\"ok\":true}");
  EXPECT_EQ(wire.body_bytes().data(), shared->body.data());
  EXPECT_EQ(wire.shared, shared);
  auto head = to_wire_response(Answer(shared), 11, true, true);
  EXPECT_EQ(head.shared, nullptr);
  EXPECT_TRUE(head.body_bytes().empty());
  EXPECT_EQ(shared->body, "{\"ok\":true}") << "the shared response is never changed";
}

TEST(WireResponse, ConnectionFollowsVersionAndKeepAlive) {
  EXPECT_NE(to_wire_response(sample(), 11, false, false).head.find("\r\nConnection: close\r\n"),
            std::string::npos);
  EXPECT_NE(to_wire_response(sample(), 10, false, true).head.find("Connection: keep-alive"),
            std::string::npos);
  auto closed_10 = to_wire_response(sample(), 10, false, false).head;
  EXPECT_EQ(closed_10.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_EQ(closed_10.find("Connection:"), std::string::npos) << "1.0 closes by default";
}

TEST(WireResponse, HeadKeepsTheLengthAndDropsTheBody) {
  auto wire = to_wire_response(sample(), 11, true, true);
  EXPECT_NE(wire.head.find("Content-Length: 11\r\n"), std::string::npos);
  EXPECT_TRUE(wire.body.empty());
}

TEST(WireResponse, BodylessStatusesHaveNoBodyNorLength) {
  for (int status : {204, 304}) {
    Response r = sample();
    r.status = status;
    auto wire = to_wire_response(std::move(r), 11, false, true);
    EXPECT_EQ(wire.head.find("Content-Length"), std::string::npos) << status;
    EXPECT_EQ(wire.head.find("Content-Type"), std::string::npos) << status;
    EXPECT_TRUE(wire.body.empty()) << status;
  }
  EXPECT_EQ(to_wire_response(Response{}, 11, false, true).head.rfind("HTTP/1.1 200 OK", 0), 0u);
}

// The head is written into room made for it up front: a head far longer than the last one (many
// headers, long values, an unknown status, the gateway's lines), then a short one, each whole.
TEST(WireResponse, HeadsOfEverySizeAreWrittenWhole) {
  WireResponse wire;
  for (int round = 0; round < 3; ++round) {
    Response r;
    r.status = round == 1 ? 999 : 200;
    r.content_type = std::string(300 * round, 't');
    // No Content-Type line for an empty type (round 0).
    std::string expected_fields = round == 0 ? "" : "Content-Type: " + r.content_type + "\r\n";
    for (int i = 0; i < 50 * round; ++i) {
      r.headers.emplace_back("X-" + std::to_string(i), std::string(i, 'v'));
      expected_fields += "X-" + std::to_string(i) + ": " + std::string(i, 'v') + "\r\n";
    }
    r.body = std::string(12345, 'b');
    const std::string core = std::string("X-Core: ") + std::string(500 * round, 'c') + "\r\n";
    write_wire_response(Answer(std::move(r)), core, 11, false, false, wire);
    const std::string status =
        round == 1 ? "HTTP/1.1 999 <unknown-status>\r\n" : "HTTP/1.1 200 OK\r\n";
    EXPECT_EQ(without_date(wire.head), status + "Server: portico\r\n" + expected_fields + core +
                                           "Content-Length: 12345\r\nConnection: close\r\n\r\n")
        << round;
    EXPECT_EQ(wire.body.size(), 12345u);
  }
}

TEST(WireResponse, NoHeaderCanSplitTheResponse) {
  Response r = sample();
  r.headers = {{"X-Evil", "a\r\nSet-Cookie: stolen=1"}, {"X-Name\r\nInjected", "v"}};
  r.status = 404;
  auto head = to_wire_response(std::move(r), 11, false, true).head;
  EXPECT_EQ(head.find("\r\nSet-Cookie"), std::string::npos) << head;
  EXPECT_EQ(head.find("\r\nInjected"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Evil: a  Set-Cookie: stolen=1\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
}

}  // namespace
}  // namespace portico::http
