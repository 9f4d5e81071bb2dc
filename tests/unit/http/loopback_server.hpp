// A loopback HttpServer for the tests of core/http: the server on a thread of its own answering
// at once, a client on a plain socket reading whole responses, and request texts. Shared by
// http_server_test.cpp (the listener's writing, reading and deadlines) and request_state_test.cpp
// (request states leased from the I/O thread's pool).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/http/http_server.hpp"

namespace portico::http::loopback {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The server on its own thread, answering every request at once with `body_for(path)` and one
// header line of the gateway's own (X-Core). `seen`, when given, gets each request first. As the
// pipeline's requests do, what the handler returns holds the request until its response is written.
class Server {
 public:
  using Seen = std::function<void(const std::shared_ptr<Request>&)>;
  explicit Server(HttpServerOptions options,
                  std::function<std::string(const std::string&)> body_for, Seen seen = nullptr)
      : body_for_(std::move(body_for)), seen_(std::move(seen)) {
    options.listen = {"127.0.0.1", 0};
    server_ = std::make_unique<HttpServer>(
        std::vector<boost::asio::io_context*>{&io_}, std::move(options),
        [this](std::shared_ptr<Request> request, pipeline::Respond respond) {
          if (seen_) seen_(request);
          Response response;
          response.status = 200;
          response.content_type = "text/plain";
          response.body = body_for_(request->path);
          respond(std::move(response), "X-Core: yes\r\n");
          return std::make_shared<Holding>(std::move(request));
        });
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_->port(); }
  std::size_t open_connections() const { return server_->open_connections(); }

 private:
  struct Holding final : pipeline::PendingRequest {
    explicit Holding(std::shared_ptr<Request> request) : request(std::move(request)) {}
    void client_gone() override {}
    void timed_out() override {}
    std::shared_ptr<Request> request;
  };

  boost::asio::io_context io_{1};
  std::function<std::string(const std::string&)> body_for_;
  Seen seen_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

class Client {
 public:
  explicit Client(std::uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
    }
  }
  ~Client() { ::close(fd_); }

  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }

  // `bytes` and the FIN in one segment: corked, the kernel holds the bytes and tacks the FIN on.
  void send_with_fin(const std::string& bytes) {
    int on = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
    send(bytes);
    shutdown_send();
  }

  void send(const std::string& bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      const auto n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      ASSERT_GT(n, 0) << "send failed";
      at += static_cast<std::size_t>(n);
    }
  }

  // Reads until `want` bytes have come or `limit` passes; fewer, and a failure, on a short read.
  std::string read_exactly(std::size_t want, Clock::duration limit = 10s) {
    const auto until = Clock::now() + limit;
    while (pending_.size() < want && Clock::now() < until && fill()) {
    }
    EXPECT_GE(pending_.size(), want) << "the response ended early or took too long";
    std::string got = pending_.substr(0, want);
    pending_.erase(0, got.size());
    return got;
  }

  // One response: the head up to the blank line, then Content-Length bytes of body.
  std::pair<std::string, std::string> read_response() {
    const auto until = Clock::now() + 10s;
    while (pending_.find("\r\n\r\n") == std::string::npos && Clock::now() < until && fill()) {
    }
    const auto end = pending_.find("\r\n\r\n");
    if (end == std::string::npos) {
      ADD_FAILURE() << "no complete response head";
      return {};
    }
    std::string head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    const auto at = head.find("Content-Length: ");
    if (at == std::string::npos) return {head, ""};
    return {head, read_exactly(std::stoul(head.substr(at + 16)))};
  }

  // Waits for the server to close: recv returns 0 or fails (unread data is read and dropped).
  bool closed_by_peer(Clock::duration limit) {
    const auto until = Clock::now() + limit;
    char buf[65536];
    while (Clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
    }
    return false;
  }

 private:
  // Appends what the socket has (waiting up to 100 ms); false once the peer has closed.
  bool fill() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) return true;
    char buf[65536];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string pending_;  // read, not yet taken
};

inline std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

inline std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

}  // namespace portico::http::loopback
