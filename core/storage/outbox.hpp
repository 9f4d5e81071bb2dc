// The transactional outbox owned by the core: events are appended inside the writer's transaction
// and read in commit order by consumers (webhook delivery, the events API).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/event.hpp"

namespace portico::storage {

class SqlOutbox final : public Outbox {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // Reads go to `db` (its reader pool); appends go through the caller's transaction.
  SqlOutbox(std::shared_ptr<Database> db, Clock clock);
  std::string append(Session& tx, const Event& event) override;
  std::string append(Session& tx, const PreparedEvent& event) override;
  std::vector<StoredEvent> read_after(std::int64_t after, int limit) override;
  std::optional<StoredEvent> find(std::string_view id) override;
  std::vector<StoredEvent> feed(const EventFeedQuery& query) override;

 private:
  std::shared_ptr<Database> db_;
  Clock clock_;
};

}  // namespace portico::storage
