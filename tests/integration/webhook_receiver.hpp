// A loopback webhook receiver for integration tests, in a few lines of raw sockets (no Beast in
// this binary): every connection gets one request read (headers + Content-Length body) and
// recorded; then, depending on the mode, it is left hanging (never answered, held until the peer
// goes away or the receiver stops) or answered 200 and closed.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.hpp"

namespace portico::test::receiver {

struct Received {
  std::string id;
  std::string timestamp;
  std::string signature;
  std::string content_type;
  std::string target;
  std::string body;
};

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

inline std::string trim(const std::string& s) {
  auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

class Receiver {
 public:
  Receiver() : port_(free_port()) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 64) != 0) {
      ::close(fd_);
      throw std::runtime_error("receiver cannot listen on 127.0.0.1:" + std::to_string(port_));
    }
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~Receiver() {
    stopping_ = true;
    cv_.notify_all();
    acceptor_.join();
    std::vector<std::thread> handlers;
    {
      std::lock_guard lock(mutex_);
      handlers.swap(handlers_);
    }
    for (auto& t : handlers) t.join();
    ::close(fd_);
  }

  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void set_hang(bool hang) { hang_ = hang; }

  std::vector<Received> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int answered_200() const { return answered_200_; }

  // Waits until `pred` holds for the recorded requests (true), or `timeout` passes (false).
  bool wait_for(const std::function<bool(const std::vector<Received>&)>& pred,
                std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return pred(requests_); });
  }
  // The request carrying webhook-id `id`, once it arrived (within `timeout`).
  std::optional<Received> wait_for(const std::string& id, std::chrono::milliseconds timeout) {
    std::optional<Received> found;
    wait_for(
        [&](const std::vector<Received>& requests) {
          for (const auto& r : requests) {
            if (r.id == id) found = r;
          }
          return found.has_value();
        },
        timeout);
    return found;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::lock_guard lock(mutex_);
      handlers_.emplace_back([this, client] {
        handle(client);
        ::close(client);
      });
    }
  }

  // Reads more bytes into `buffer`; false on EOF, error, or stop.
  bool read_more(int fd, std::string& buffer) {
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, 50);
      if (ready < 0) return false;
      if (ready == 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  }

  void handle(int fd) {
    std::string buffer;
    std::size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more(fd, buffer)) return;
    }
    std::map<std::string, std::string> headers;
    Received r;
    std::size_t line_start = 0;
    bool first = true;
    while (line_start < header_end) {
      std::size_t line_end = buffer.find("\r\n", line_start);
      std::string line = buffer.substr(line_start, line_end - line_start);
      line_start = line_end + 2;
      if (first) {
        first = false;
        auto sp1 = line.find(' ');
        auto sp2 = line.find(' ', sp1 + 1);
        if (sp1 != std::string::npos) r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        continue;
      }
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
    }
    std::size_t length = 0;
    if (headers.count("content-length")) length = std::stoul(headers["content-length"]);
    const std::size_t body_start = header_end + 4;
    while (buffer.size() < body_start + length) {
      if (!read_more(fd, buffer)) return;
    }
    r.body = buffer.substr(body_start, length);
    r.id = headers["webhook-id"];
    r.timestamp = headers["webhook-timestamp"];
    r.signature = headers["webhook-signature"];
    r.content_type = headers["content-type"];

    const bool hang = hang_;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(r);
    }
    cv_.notify_all();
    if (hang) {
      // Never answer: hold the connection until the gateway goes away or the test ends.
      std::string ignored;
      while (read_more(fd, ignored)) {
      }
      return;
    }
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (::send(fd, response.data(), response.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(response.size())) {
      ++answered_200_;
    }
  }

  std::uint16_t port_;
  int fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> hang_{true};
  std::atomic<int> answered_200_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::thread> handlers_;
  std::vector<Received> requests_;
};

}  // namespace portico::test::receiver
