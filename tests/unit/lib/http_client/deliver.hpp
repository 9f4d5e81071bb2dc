// The client's asynchronous post() awaited, for the HTTP client tests: the result, or a test
// failure (and an empty result) when no completion arrives within 20 s.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include "lib/http_client/http_client.hpp"

namespace portico::http_client {

inline DeliveryResult deliver(HttpClient& client, OutgoingRequest request) {
  auto promise = std::make_shared<std::promise<DeliveryResult>>();
  auto future = promise->get_future();
  client.post(std::move(request),
              [promise](DeliveryResult r) { promise->set_value(std::move(r)); });
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "no completion within 20 s";
    return {};
  }
  return future.get();
}

}  // namespace portico::http_client
