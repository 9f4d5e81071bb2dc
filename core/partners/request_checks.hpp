// Checking admin request bodies and list queries: collect every field error, then answer one
// 400 invalid_request naming them all (errors[] with field paths).
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portico/http_types.hpp"
#include "portico/problem.hpp"

namespace portico::partners {

// The request's body as a JSON object, within its JSON nesting limit (sdk::parse_json_text). An
// empty body is {} when `empty_is_object`; anything else that is not a JSON object is a 400
// invalid_request.
nlohmann::json parse_object_body(const Request& request, bool empty_is_object);

class FieldErrors {
 public:
  void add(std::string field, std::string message);
  // One error per member of `body` not in `allowed`, with a did-you-mean hint.
  void reject_unknown(const nlohmann::json& body, std::initializer_list<std::string_view> allowed);
  bool empty() const { return errors_.empty(); }
  // Throws 400 invalid_request carrying every error (the detail names the first one).
  void throw_if_any() const;

 private:
  std::vector<FieldError> errors_;
};

// ?limit= (1-100, default 20) and ?cursor= of the list routes.
struct PageRequest {
  int limit = 20;
  std::string cursor;  // opaque; empty = first page
};

// Throws 400 invalid_request (field "limit") for a limit that is not an integer in 1-100.
PageRequest page_request(const std::optional<std::string>& limit,
                         const std::optional<std::string>& cursor);

// The position after which the next page starts: lists are ordered by (created_at, id) descending.
struct CursorPosition {
  std::string created_at;
  std::string id;
};
std::string encode_cursor(const CursorPosition& position);
// Throws 400 invalid_request (field "cursor") when the cursor was not made by encode_cursor.
CursorPosition decode_cursor(std::string_view cursor);

}  // namespace portico::partners
