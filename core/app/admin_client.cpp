// AdminClient over Boost.Beast: resolve, connect, write, read, each bounded by one deadline.
#include "core/app/admin_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace portico::app {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::size_t kMaxReplyBytes = 64 << 20;

}  // namespace

AdminUrl parse_admin_url(const std::string& url) {
  std::string rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string::npos) {
    if (rest.substr(0, scheme) != "http")
      throw std::invalid_argument("--admin: only http:// URLs are supported, got '" + url + "'");
    rest = rest.substr(scheme + 3);
  }
  AdminUrl out;
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  std::string port = "80";
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos)
      throw std::invalid_argument("--admin: malformed URL '" + url + "'");
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        throw std::invalid_argument("--admin: malformed URL '" + url + "'");
      port = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535)
    throw std::invalid_argument("--admin: malformed URL '" + url + "' (expected http://HOST:PORT)");
  out.port = port;
  bool v6 = out.host.find(':') != std::string::npos;
  out.text = "http://" + (v6 ? "[" + out.host + "]" : out.host) + ":" + out.port + out.base_path;
  return out;
}

AdminClient::AdminClient(AdminUrl url, std::string token, std::chrono::milliseconds timeout)
    : url_(std::move(url)), token_(std::move(token)), timeout_(timeout) {}

AdminHttpReply AdminClient::send(const std::string& method, const std::string& target,
                                 const std::string& body) const {
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);

  http::request<http::string_body> request;
  request.method_string(method);
  request.target(url_.base_path + target);
  request.version(11);
  bool v6 = url_.host.find(':') != std::string::npos;
  request.set(http::field::host, (v6 ? "[" + url_.host + "]" : url_.host) + ":" + url_.port);
  request.set(http::field::user_agent, "portico-cli");
  request.set(http::field::accept, "application/json");
  if (!token_.empty()) request.set(http::field::authorization, "Bearer " + token_);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.keep_alive(false);
  request.prepare_payload();

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  beast::error_code failure;
  auto fail = [&](beast::error_code ec) { failure = ec; };

  stream.expires_after(timeout_);
  resolver.async_resolve(
      url_.host, url_.port, [&](beast::error_code ec, tcp::resolver::results_type found) {
        if (ec) return fail(ec);
        stream.async_connect(found, [&](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return fail(ec);
          http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
            if (ec) return fail(ec);
            http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
              if (ec) return fail(ec);
              beast::error_code ignored;
              stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            });
          });
        });
      });
  // The resolver has no deadline of its own; run_for bounds the whole exchange.
  ioc.run_for(timeout_ + std::chrono::seconds(1));
  if (!ioc.stopped() && !failure) failure = beast::error::timeout;
  if (!failure && !parser.is_done()) failure = beast::error::timeout;
  if (failure) {
    std::string reason = failure == beast::error::timeout ? "timed out" : failure.message();
    throw AdminUnreachable("cannot reach the admin API at " + url_.text + ": " + reason +
                           " (is `portico serve` running?)");
  }
  auto& response = parser.get();
  AdminHttpReply reply;
  reply.status = static_cast<int>(response.result_int());
  if (auto it = response.find(http::field::content_type); it != response.end())
    reply.content_type = std::string(it->value());
  reply.body = std::move(response.body());
  return reply;
}

}  // namespace portico::app
