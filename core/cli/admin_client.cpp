// AdminClient on the shared outbound client (lib/http_client): one request per connection, the
// whole exchange bounded by one deadline.
#include "core/cli/admin_client.hpp"

#include "lib/http_client/http_client.hpp"

namespace portico::app {
namespace {

constexpr std::size_t kMaxReplyBytes = 64 << 20;

http_client::ClientOptions admin_client_options() {
  http_client::ClientOptions options;
  options.user_agent = "portico-cli";
  options.max_idle_per_pool = 0;               // one request per connection
  options.max_response_body = kMaxReplyBytes;  // the admin API's largest answers (exports)
  options.body_excerpt = kMaxReplyBytes;       // keep the whole body
  return options;
}

// The reason as the CLI has always worded it: "timed out", or the system's message ("Connection
// refused", "Host not found ..."); the shared client says "cannot connect to HOST:PORT: ...".
std::string reason_of(const std::string& error) {
  if (error.starts_with("timed out")) return "timed out";
  const auto colon = error.rfind(": ");
  return colon == std::string::npos ? error : error.substr(colon + 2);
}

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
    : url_(std::move(url)),
      token_(std::move(token)),
      timeout_(timeout),
      client_(std::make_shared<http_client::HttpClient>(admin_client_options())) {}

AdminHttpReply AdminClient::send(const std::string& method, const std::string& target,
                                 const std::string& body) const {
  http_client::OutgoingRequest request;
  request.method = method;
  request.scheme = "http";
  request.host = url_.host;
  request.port = static_cast<std::uint16_t>(std::stoi(url_.port));  // parse_admin_url checked it
  request.target = url_.base_path + target;
  request.headers = {{"Accept", "application/json"}};
  if (!token_.empty()) request.headers.emplace_back("Authorization", "Bearer " + token_);
  request.body = body;  // sent as application/json
  request.timeout = timeout_;
  request.keep_alive = false;
  http_client::DeliveryResult result = client_->send(std::move(request));
  if (result.status == 0 || result.body_truncated) {
    const std::string reason = result.status == 0 ? reason_of(result.error) : "answer too large";
    throw AdminUnreachable("cannot reach the admin API at " + url_.text + ": " + reason +
                           " (is `portico serve` running?)");
  }
  AdminHttpReply reply;
  reply.status = result.status;
  reply.content_type = result.content_type.value_or("");
  reply.body = std::move(result.body_excerpt);
  return reply;
}

}  // namespace portico::app
