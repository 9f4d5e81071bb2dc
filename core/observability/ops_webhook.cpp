#include "core/observability/ops_webhook.hpp"

#include "core/util/strings.hpp"

#include <netdb.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/util/random_id.hpp"
#include "core/util/time.hpp"

namespace portico::observability {
namespace {

constexpr std::size_t kMaxQueued = 100;

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(sodium_base64_encoded_len(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::vector<unsigned char> secret_key(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.substr(0, kPrefix.size()) != kPrefix) {
    throw std::invalid_argument("the secret must look like whsec_<base64>");
  }
  std::string_view encoded = secret.substr(kPrefix.size());
  std::vector<unsigned char> key(encoded.size());
  std::size_t length = 0;
  if (encoded.empty() || !util::is_base64_text(encoded, false) ||
      sodium_base642bin(key.data(), key.size(), encoded.data(), encoded.size(), nullptr, &length,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    throw std::invalid_argument("the secret after whsec_ is not base64");
  }
  key.resize(length);
  return key;
}

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::optional<HttpTarget> parse_http_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  url.remove_prefix(kScheme.size());
  HttpTarget target;
  auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) target.path = std::string(url.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view host = authority;
  if (authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return std::nullopt;
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  if (!authority.empty()) {
    std::string_view digits = authority.substr(1);
    if (digits.empty() || digits.size() > 5) return std::nullopt;
    unsigned port = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) return std::nullopt;
    target.port = static_cast<std::uint16_t>(port);
  }
  if (host.empty()) return std::nullopt;
  target.host = std::string(host);
  return target;
}

std::string webhook_signature(std::string_view secret, std::string_view id, std::int64_t timestamp,
                              std::string_view body) {
  auto key = secret_key(secret);
  std::string signed_text = std::string(id) + "." + std::to_string(timestamp) + ".";
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signed_text.data()),
                                signed_text.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  return "v1," + base64(mac, sizeof mac);
}

OpsWebhook::OpsWebhook(std::string url, std::string secret, Warn warn,
                       std::chrono::milliseconds timeout, WallClock clock)
    : secret_(std::move(secret)),
      warn_(std::move(warn)),
      timeout_(timeout),
      clock_(std::move(clock)) {
  auto target = parse_http_url(url);
  if (!target) {
    throw std::invalid_argument("'" + url + "' is not an http://host[:port]/path URL");
  }
  target_ = std::move(*target);
  if (!secret_.empty()) secret_key(secret_);  // refuse a malformed secret now, not per event
  if (!clock_) clock_ = std::chrono::system_clock::now;
  sender_ = std::thread([this] { run(); });
}

OpsWebhook::~OpsWebhook() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  sender_.join();
}

void OpsWebhook::send(std::string type, std::string data_object) {
  std::string id = util::random_id("evt_");
  nlohmann::json event{{"id", id},
                       {"type", std::move(type)},
                       {"created", util::format_rfc3339(clock_())},
                       {"api_version", "v1"},
                       {"data", {{"object", nlohmann::json::parse(data_object)}}}};
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) {
      queue_.pop_front();
      failed_.fetch_add(1, std::memory_order_relaxed);
    }
    queue_.push_back({std::move(id), event.dump()});
  }
  wake_.notify_one();
}

void OpsWebhook::run() {
  while (true) {
    Event event;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      event = std::move(queue_.front());
      queue_.pop_front();
    }
    if (post(event.id, event.body)) {
      delivered_.fetch_add(1, std::memory_order_relaxed);
    } else {
      failed_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

bool OpsWebhook::post(const std::string& id, const std::string& body) {
  auto fail = [&](const std::string& why) {
    if (warn_)
      warn_("ops webhook " + target_.host + ":" + std::to_string(target_.port) + ": " + why);
    return false;
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc =
          getaddrinfo(target_.host.c_str(), std::to_string(target_.port).c_str(), &hints, &found);
      rc != 0) {
    return fail(std::string("cannot resolve: ") + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
  for (addrinfo* a = addresses.get(); a; a = a->ai_next) {
    Socket socket(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (socket.get() < 0) continue;
    setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(socket.get(), a->ai_addr, a->ai_addrlen) != 0) continue;

    std::int64_t timestamp =
        std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
    std::string request =
        "POST " + target_.path + " HTTP/1.1\r\nHost: " + target_.host +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\nUser-Agent: portico-ops-webhook\r\n" + "webhook-id: " + id +
        "\r\nwebhook-timestamp: " + std::to_string(timestamp) + "\r\n";
    if (!secret_.empty()) {
      request += "webhook-signature: " + webhook_signature(secret_, id, timestamp, body) + "\r\n";
    }
    request += "\r\n" + body;
    std::size_t sent = 0;
    while (sent < request.size()) {
      ssize_t n = ::send(socket.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return fail("send failed");
      sent += static_cast<std::size_t>(n);
    }
    std::string reply;
    char buffer[1024];
    while (reply.find("\r\n") == std::string::npos && reply.size() < 8192) {
      ssize_t n = ::recv(socket.get(), buffer, sizeof buffer, 0);
      if (n <= 0) break;
      reply.append(buffer, static_cast<std::size_t>(n));
    }
    // "HTTP/1.1 204 No Content"
    if (reply.size() < 12 || reply.compare(0, 5, "HTTP/") != 0) return fail("no HTTP answer");
    auto space = reply.find(' ');
    int status = space == std::string::npos ? 0 : std::atoi(reply.c_str() + space + 1);
    if (status >= 200 && status < 300) return true;
    return fail("answered " + std::to_string(status));
  }
  return fail("cannot connect");
}

}  // namespace portico::observability
