#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <random>
#include <cstring>
#include <stdexcept>

namespace portico::test {
namespace {

bool iequal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> HttpResponse::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (iequal(key, name)) return value;
  }
  return std::nullopt;
}

HttpConnection::HttpConnection(const std::string& host, std::uint16_t port,
                               std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to port " + std::to_string(port) +
                             " failed: " + std::strerror(err));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void HttpConnection::send_raw(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    sent += static_cast<std::size_t>(n);
  }
}

std::string HttpConnection::read_some() {
  pollfd pfd{fd_, POLLIN, 0};
  int ready = ::poll(&pfd, 1, static_cast<int>(timeout_.count()));
  if (ready <= 0) throw std::runtime_error("timed out waiting for the server");
  char chunk[16384];
  ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n < 0) throw std::runtime_error("recv failed");
  return std::string(chunk, static_cast<std::size_t>(n));
}

bool HttpConnection::closed_by_peer(std::chrono::milliseconds wait) {
  auto saved = timeout_;
  timeout_ = wait;
  bool closed = false;
  try {
    while (true) {
      std::string more = read_some();
      if (more.empty()) {
        closed = true;
        break;
      }
      buffer_ += more;
    }
  } catch (const std::exception&) {
    closed = false;
  }
  timeout_ = saved;
  return closed;
}

HttpResponse HttpConnection::read_response() {
  std::size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    std::string more = read_some();
    if (more.empty()) throw std::runtime_error("connection closed before a response");
    buffer_ += more;
  }
  HttpResponse response;
  std::string head = buffer_.substr(0, header_end);
  std::size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK"
  auto first_space = status_line.find(' ');
  response.status = std::stoi(status_line.substr(first_space + 1, 3));
  if (status_line.size() > first_space + 5) response.reason = status_line.substr(first_space + 5);
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      response.headers.emplace_back(line.substr(0, colon), value);
    }
    pos = end + 2;
  }
  buffer_.erase(0, header_end + 4);
  std::size_t length = 0;
  if (auto cl = response.header("Content-Length")) length = std::stoul(*cl);
  while (buffer_.size() < length) {
    std::string more = read_some();
    if (more.empty()) throw std::runtime_error("connection closed inside a body");
    buffer_ += more;
  }
  response.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return response;
}

HttpResponse HttpConnection::request(
    const std::string& method, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  std::string bytes = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_length = false;
  for (const auto& [key, value] : headers) {
    bytes += key + ": " + value + "\r\n";
    if (iequal(key, "Content-Length")) has_length = true;
  }
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")) {
    bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  bytes += "\r\n" + body;
  send_raw(bytes);
  return read_response();
}

HttpResponse http_request(std::uint16_t port, const std::string& method, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) {
  HttpConnection connection("127.0.0.1", port);
  return connection.request(method, target, headers, body);
}

// A port below the kernel's ephemeral range (32768–60999 on Debian), where no outgoing
// connection is ever given one: a port the kernel hands out (bind to 0) was free when asked but
// could be taken by any client socket — a curl, another test's connection — before the gateway
// binds it ("Address already in use" under a parallel ctest). Picked at random per process, and
// claimed for the life of the process: a lock on /tmp/portico-test-ports/<port> (flock, let go
// by the kernel when the process ends, however it ends) keeps every other test process off it,
// and the claim list keeps this one from handing it out twice — random picks alone collided
// between two clusters started side by side. Then checked by binding it.
std::uint16_t free_port() {
  static std::mt19937 random(static_cast<unsigned>(::getpid()) ^
                             static_cast<unsigned>(std::random_device{}()));
  static std::mutex mutex;
  static std::map<std::uint16_t, int> claimed;  // port → its lock file, open until exit
  std::lock_guard lock(mutex);
  const std::string dir = "/tmp/portico-test-ports";
  ::mkdir(dir.c_str(), 0777);  // may exist already
  std::uniform_int_distribution<int> pick(20000, 32000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<std::uint16_t>(pick(random));
    if (claimed.count(port)) continue;
    const std::string path = dir + "/" + std::to_string(port);
    const int lock_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lock_fd >= 0 && ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(lock_fd);  // another test process has it
      continue;
    }
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      if (lock_fd >= 0) ::close(lock_fd);
      break;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (bound) {
      claimed.emplace(port, lock_fd);  // -1 when /tmp would not take the file: the bind decides
      return port;
    }
    if (lock_fd >= 0) ::close(lock_fd);
  }
  throw std::runtime_error("no free port found between 20000 and 32000");
}

}  // namespace portico::test
