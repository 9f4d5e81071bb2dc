// The transactional outbox owned by the core: events are appended inside the writer's transaction
// and read in commit order by consumers (webhook delivery, the events API).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "portico/event.hpp"

namespace portico::storage {

struct StoredEvent {
  std::int64_t sequence = 0;  // strictly increasing in commit order
  std::string id;             // "evt_..."
  std::string type;
  std::string partner_id;
  std::string subject;
  std::string created_at;  // RFC 3339
  nlohmann::json
      payload;  // the full Standard Webhooks body: {id, type, created, api_version, data}
};

class SqlOutbox final : public Outbox {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  explicit SqlOutbox(Clock clock);
  std::string append(Session& tx, const Event& event) override;

 private:
  Clock clock_;
};

// Events with sequence > after, oldest first, at most `limit`.
std::vector<StoredEvent> read_events_after(Session& db, std::int64_t after, int limit);

}  // namespace portico::storage
