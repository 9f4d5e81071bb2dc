// Business events and the transactional outbox: a plugin writes its change and its event through
// the same Session, so both commit or neither does.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "portico/database.hpp"

namespace portico {

struct Event {
  std::string type{};        // "order.created", "inventory.changed", ...
  std::string partner_id{};  // owner; empty = every partner may see it (catalog events)
  std::string subject{};     // id of the object it is about, e.g. "ord_..." (ordering key)
  nlohmann::json object{};   // data.object
  nlohmann::json previous_attributes{};  // data.previous_attributes; null when absent
};

class Outbox {
 public:
  virtual ~Outbox() = default;
  // Appends the event inside the caller's transaction and returns its id ("evt_...").
  virtual std::string append(Session& tx, const Event& event) = 0;
};

}  // namespace portico
