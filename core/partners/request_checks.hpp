// The admin routes' bodies and list paging, on the SDK's helpers: sdk::parse_json_body, the
// list-query reader and the cursor codec (sdk/fields.hpp, sdk/query.hpp, sdk/cursor.hpp) — the
// same parameters, limits, messages and tamper-proof cursors as the plugins' lists. Field errors
// are collected with sdk::FieldReader and answered with sdk::refuse_invalid_fields.
#pragma once

#include <nlohmann/json.hpp>

#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "portico/database.hpp"
#include "portico/http_types.hpp"
#include "portico/sdk/cursor.hpp"

namespace portico::partners {

// The body as a JSON object (sdk::parse_json_body: a 400 naming what is wrong); an empty body is
// {} where every field is optional (`empty_is_object`).
nlohmann::json parse_object_body(const Request& request, bool empty_is_object);

// ?limit= (1-100, default 20) and ?cursor=; any other parameter is refused (400 naming it).
struct PageRequest {
  int limit = 20;
  std::optional<std::string> cursor;  // opaque; none = first page
};
PageRequest page_request(const Request& request);

// Lists are ordered by (created_at, id) descending; a page ends at this position.
struct CursorPosition {
  std::string created_at;
  std::string id;
};

// Cursors of the admin lists, MAC'd under a key, bound to the list they were issued for
// (`list`: "partners", or "keys:<partner id>").
class AdminCursors {
 public:
  // The key is read (made on first use) from core_secrets when the first cursor is needed.
  explicit AdminCursors(std::shared_ptr<Database> db);
  explicit AdminCursors(std::string mac_key);
  std::string encode(const CursorPosition& position, std::string_view list) const;
  // Throws 400 invalid_request (field "cursor") for a cursor this list did not issue.
  CursorPosition decode(std::string_view cursor, std::string_view list) const;

 private:
  const sdk::CursorCodec& codec() const;

  std::shared_ptr<Database> db_;
  mutable std::once_flag loaded_;
  mutable std::optional<sdk::CursorCodec> codec_;
};

}  // namespace portico::partners
