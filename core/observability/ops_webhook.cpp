#include "core/observability/ops_webhook.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "core/util/random_id.hpp"
#include "portico/sdk/thread_name.hpp"
#include "core/util/time.hpp"
#include "lib/webhook_signing/signing.hpp"

namespace portico::observability {
namespace {

constexpr std::size_t kMaxQueued = 100;

// The HMAC key of the operator's secret. Any non-empty key: the ops webhook never required the
// 24 bytes endpoint secrets need, and a config that worked must keep working.
std::string secret_key(std::string_view secret) {
  if (!secret.starts_with(webhooks::kSecretPrefix)) {
    throw std::invalid_argument("the secret must look like whsec_<base64>");
  }
  auto key = webhooks::decode_secret(secret, 1);
  if (!key) throw std::invalid_argument("the secret after whsec_ is not base64");
  return std::move(*key);
}

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
  return webhooks::sign_v1(secret_key(secret), id, timestamp, body);
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
  http_client::ClientOptions options;
  options.user_agent = "portico-ops-webhook";
  options.max_idle_per_pool = 0;  // one connection per event, closed after the answer
  client_ = std::make_unique<http_client::HttpClient>(std::move(options));
  sender_ = std::thread([this] {
    sdk::name_this_thread("ops-webhook");
    run();
  });
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
  const std::int64_t timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  http_client::OutgoingRequest request;
  request.scheme = "http";
  request.host = target_.host;
  request.port = target_.port;
  request.target = target_.path;
  request.body = body;
  request.timeout = timeout_;
  request.keep_alive = false;
  request.headers = {{"webhook-id", id}, {"webhook-timestamp", std::to_string(timestamp)}};
  if (!secret_.empty()) {
    request.headers.emplace_back("webhook-signature",
                                 webhook_signature(secret_, id, timestamp, body));
  }
  http_client::DeliveryResult result = client_->send(std::move(request));
  if (result.status >= 200 && result.status < 300) return true;
  std::string why = result.status != 0 ? "answered " + std::to_string(result.status) : result.error;
  if (warn_) warn_("ops webhook " + target_.host + ":" + std::to_string(target_.port) + ": " + why);
  return false;
}

}  // namespace portico::observability
