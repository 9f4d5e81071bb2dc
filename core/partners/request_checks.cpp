// The admin lists' paging and cursors, on the SDK's helpers (request_checks.hpp).
#include "core/partners/request_checks.hpp"

#include <array>
#include <vector>

#include "core/util/strings.hpp"
#include "portico/sdk/fields.hpp"
#include "portico/sdk/query.hpp"
#include "portico/sdk/sodium.hpp"

namespace portico::partners {

nlohmann::json parse_object_body(const Request& request, bool empty_is_object) {
  if (empty_is_object && util::trim(request.body).empty()) return nlohmann::json::object();
  return sdk::parse_json_body(request, true, "a JSON object");
}

PageRequest page_request(const Request& request) {
  std::vector<FieldError> errors;
  const sdk::PageParameters page =
      sdk::read_list_query(request.query, {}, errors, [](std::string_view, std::string_view) {});
  if (!errors.empty()) throw sdk::invalid_query(std::move(errors));
  return {page.limit, page.cursor};
}

namespace {

sdk::CursorCodec codec_under(std::string key) {
  return sdk::CursorCodec(
      [key = std::move(key)](std::string_view message) { return sdk::hmac_sha256(key, message); });
}

}  // namespace

AdminCursors::AdminCursors(std::shared_ptr<Database> db) : db_(std::move(db)) {}

AdminCursors::AdminCursors(std::string mac_key) : codec_(codec_under(std::move(mac_key))) {
  std::call_once(loaded_, [] {});
}

const sdk::CursorCodec& AdminCursors::codec() const {
  std::call_once(loaded_, [this] {
    codec_ = codec_under(sdk::stored_secret(*db_, "core_secrets", "admin_cursor_mac_key"));
  });
  return *codec_;
}

std::string AdminCursors::encode(const CursorPosition& position, std::string_view list) const {
  return codec().encode(position.created_at + '\x1f' + position.id, list);
}

CursorPosition AdminCursors::decode(std::string_view cursor, std::string_view list) const {
  std::vector<FieldError> errors;
  const std::string_view names = list.starts_with("keys:") ? "the partner" : "the list";
  const auto position = sdk::cursor_position(codec(), cursor, list, names, errors);
  const auto bar = position ? position->find('\x1f') : std::string::npos;
  if (!position || bar == std::string::npos) {
    if (errors.empty()) errors.push_back({"cursor", "is not a cursor this API issued"});
    throw sdk::invalid_query(std::move(errors));
  }
  return {position->substr(0, bar), position->substr(bar + 1)};
}

}  // namespace portico::partners
