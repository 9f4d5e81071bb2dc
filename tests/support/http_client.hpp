// A deliberately small blocking HTTP/1.1 client over a raw socket, so integration tests exercise
// the server exactly as bytes on the wire (including malformed and slow requests).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace portico::test {

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::string> header(const std::string& name) const;  // case-insensitive
};

class HttpConnection {
 public:
  HttpConnection(const std::string& host, std::uint16_t port,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void send_raw(const std::string& bytes);
  // Reads one response; throws on timeout or when the peer closes before a full response.
  HttpResponse read_response();
  // True when the server has closed the connection (reads EOF within the timeout).
  bool closed_by_peer(std::chrono::milliseconds wait);

  HttpResponse request(const std::string& method, const std::string& target,
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       const std::string& body = {});

 private:
  std::string read_some();
  int fd_ = -1;
  std::string buffer_;
  std::chrono::milliseconds timeout_;
};

// One request on a fresh connection.
HttpResponse http_request(std::uint16_t port, const std::string& method, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                          const std::string& body = {});

std::uint16_t free_port();

}  // namespace portico::test
