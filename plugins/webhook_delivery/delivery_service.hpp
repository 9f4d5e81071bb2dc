// The plugin's Service: one thread that runs the engine — record finished attempts, fan out new
// outbox events, dispatch due rows — then sleeps for poll_interval or until a request completes.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "plugins/webhook_delivery/delivery_engine.hpp"
#include "plugins/webhook_delivery/delivery_settings.hpp"
#include "portico/host.hpp"
#include "portico/plugin.hpp"

namespace portico::webhook_delivery {

class DeliveryService final : public Service {
 public:
  DeliveryService(Host& host, DeliverySettings settings);
  ~DeliveryService() override;

  // Builds the engine (its HTTP client threads) and starts the loop; throws when it cannot.
  void start() override;
  // Lets requests on the wire finish for a moment, abandons the rest (they stay pending), joins.
  void stop() override;

 private:
  void run();
  void report(const std::exception& e);

  Host& host_;
  DeliverySettings settings_;
  std::mutex lifecycle_;
  std::unique_ptr<DeliveryEngine> engine_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::string last_error_;
  std::chrono::steady_clock::time_point last_error_at_{};
};

}  // namespace portico::webhook_delivery
