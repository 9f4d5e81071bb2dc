// A loopback webhook receiver for the client tests: blocking Beast server on 127.0.0.1 (port 0),
// one thread per connection, plain or TLS, with scripted answers (status, headers, hang, drop,
// close). Records every connection and request.
#pragma once

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace portico::webhooks::test {

struct ReceivedRequest {
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> headers;
  int connection = 0;  // 1-based, in accept order
  int index = 0;       // 0-based position on its connection
  std::optional<std::string> header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (boost::beast::iequals(n, name)) return v;
    }
    return std::nullopt;
  }
};

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body = "ok";
  std::chrono::milliseconds delay{0};  // before answering
  bool hang = false;                   // never answer (until the receiver stops)
  bool drop = false;                   // close the connection without answering
  bool close_after = false;            // answer keep-alive, then close the connection anyway
  bool advertise_close = false;        // answer with Connection: close
};

struct TlsFiles {
  std::string cert, key;
};

class Receiver {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  explicit Receiver(Handler handler, std::optional<TlsFiles> tls = std::nullopt)
      : handler_(std::move(handler)), acceptor_(io_) {
    namespace asio = boost::asio;
    if (tls) {
      tls_.emplace(asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(tls->cert);
      tls_->use_private_key_file(tls->key, asio::ssl::context::pem);
      SSL_CTX_set_tlsext_servername_callback(tls_->native_handle(), &Receiver::on_servername);
      SSL_CTX_set_tlsext_servername_arg(tls_->native_handle(), this);
    }
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(512);
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~Receiver() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    stop_cv_.notify_all();
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  std::uint16_t port() const { return port_; }
  int connections() const { return accepted_.load(); }
  int tls_failures() const { return tls_failures_.load(); }
  int max_concurrent() const { return max_busy_.load(); }
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  std::string last_sni() const {
    std::lock_guard lock(mutex_);
    return last_sni_;
  }
  // Waits until `n` connections have been closed by either side (bounded).
  bool wait_closed(int n, std::chrono::milliseconds limit = std::chrono::seconds(5)) const {
    auto until = std::chrono::steady_clock::now() + limit;
    while (closed_.load() < n) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

 private:
  static int on_servername(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<Receiver*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    std::lock_guard lock(self->mutex_);
    self->last_sni_ = name ? name : "";
    return SSL_TLSEXT_ERR_OK;
  }

  void accept_loop() {
    for (;;) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) return;
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      int number = ++accepted_;
      open_fds_.push_back(socket.native_handle());
      threads_.emplace_back(
          [this, number, s = std::move(socket)]() mutable { serve(std::move(s), number); });
    }
  }

  void serve(boost::asio::ip::tcp::socket socket, int number) {
    namespace asio = boost::asio;
    int fd = socket.native_handle();
    socket.set_option(asio::ip::tcp::no_delay(true));
    if (tls_) {
      asio::ssl::stream<asio::ip::tcp::socket&> stream(socket, *tls_);
      boost::system::error_code ec;
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (ec) {
        ++tls_failures_;
      } else {
        serve_stream(stream, number);
      }
    } else {
      serve_stream(socket, number);
    }
    {
      std::lock_guard lock(mutex_);
      std::erase(open_fds_, fd);
    }
    boost::system::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    ++closed_;
  }

  template <class Stream>
  void serve_stream(Stream& stream, int number) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (int index = 0;; ++index) {
      http::request<http::string_body> request;
      boost::system::error_code ec;
      http::read(stream, buffer, request, ec);
      if (ec) return;
      ReceivedRequest received;
      received.method = std::string(request.method_string());
      received.target = std::string(request.target());
      received.body = request.body();
      for (const auto& field : request) {
        received.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      received.connection = number;
      received.index = index;
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(received);
      }
      int busy = ++busy_;
      for (int seen = max_busy_.load();
           busy > seen && !max_busy_.compare_exchange_weak(seen, busy);) {
      }
      Reply reply = handler_(received);
      if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
      if (reply.hang) {
        std::unique_lock lock(mutex_);
        stop_cv_.wait(lock, [this] { return stopping_; });
      }
      --busy_;
      if (reply.hang || reply.drop) return;
      http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
      for (const auto& [name, value] : reply.headers) response.set(name, value);
      response.body() = reply.body;
      response.prepare_payload();
      response.keep_alive(!reply.advertise_close);
      http::write(stream, response, ec);
      if (ec || reply.advertise_close || reply.close_after) return;
    }
  }

  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::optional<boost::asio::ssl::context> tls_;
  std::uint16_t port_ = 0;
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::vector<int> open_fds_;
  std::vector<ReceivedRequest> requests_;
  std::string last_sni_;
  std::atomic<int> accepted_{0}, closed_{0}, tls_failures_{0}, busy_{0}, max_busy_{0};
};

}  // namespace portico::webhooks::test
