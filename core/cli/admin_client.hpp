// The CLI's client of the admin API, on the shared outbound client (lib/http_client).
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

namespace portico::http_client {
class HttpClient;
}

namespace portico::app {

// The admin API could not be reached (refused, timed out, name not resolved). The message reads
// "cannot reach the admin API at URL: reason (is `portico serve` running?)".
class AdminUnreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AdminHttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// "http://127.0.0.1:9901", "http://[::1]:9901/", "127.0.0.1:9901" (http assumed). Throws
// std::invalid_argument for other schemes or a malformed URL.
struct AdminUrl {
  std::string host;  // without brackets
  std::string port;
  std::string base_path;  // "" or "/prefix" (no trailing slash)
  std::string text;       // as shown in messages: "http://127.0.0.1:9901"
};
AdminUrl parse_admin_url(const std::string& url);

class AdminClient {
 public:
  AdminClient(AdminUrl url, std::string token,
              std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // One request on a fresh connection; `target` is appended to the base URL. A JSON body is sent
  // with Content-Type: application/json. Throws AdminUnreachable on connection failures.
  AdminHttpReply send(const std::string& method, const std::string& target,
                      const std::string& body = {}) const;

  const AdminUrl& url() const { return url_; }

 private:
  AdminUrl url_;
  std::string token_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<http_client::HttpClient> client_;  // shared: send() is const, copies share it
};

}  // namespace portico::app
