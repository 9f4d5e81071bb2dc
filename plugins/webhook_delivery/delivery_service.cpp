#include "plugins/webhook_delivery/delivery_service.hpp"

#include "portico/sdk/thread_name.hpp"

namespace portico::webhook_delivery {

DeliveryService::DeliveryService(Host& host, DeliverySettings settings)
    : host_(host), settings_(std::move(settings)) {}

DeliveryService::~DeliveryService() {
  stop();
}

void DeliveryService::start() {
  std::lock_guard lock(lifecycle_);
  if (thread_.joinable()) return;
  engine_ = std::make_unique<DeliveryEngine>(host_, settings_);
  stopping_ = false;
  thread_ = std::thread([this] {
    sdk::name_this_thread("webhook-deliver");
    run();
  });
}

void DeliveryService::stop() {
  std::lock_guard lock(lifecycle_);
  if (!thread_.joinable()) return;
  stopping_ = true;
  engine_->wake();
  thread_.join();
  engine_->shutdown(settings_.stop_grace);
  engine_.reset();
}

void DeliveryService::run() {
  while (!stopping_) {
    try {
      engine_->step();
    } catch (const std::exception& e) {
      report(e);  // e.g. the database is busy: the next round tries again
    }
    engine_->wait_for_work(settings_.poll_interval);
  }
}

// The same failure repeating every round is logged once a minute, not ten times a second.
void DeliveryService::report(const std::exception& e) {
  const auto now = std::chrono::steady_clock::now();
  if (e.what() == last_error_ && now - last_error_at_ < std::chrono::minutes(1)) return;
  last_error_ = e.what();
  last_error_at_ = now;
  host_.log().error(std::string("webhook delivery round failed: ") + e.what());
}

}  // namespace portico::webhook_delivery
