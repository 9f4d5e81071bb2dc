// Body parsing, field error collection and opaque cursors for the partners admin API.
#include "core/partners/request_checks.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>

#include "core/util/strings.hpp"
#include "portico/sdk/fields.hpp"
#include "portico/sdk/problems.hpp"

namespace portico::partners {

nlohmann::json parse_object_body(const Request& request, bool empty_is_object) {
  if (util::trim(request.body).empty()) {
    if (empty_is_object) return nlohmann::json::object();
    throw sdk::invalid_request("The request body must be a JSON object.");
  }
  return sdk::parse_json_text(request.body, request.max_json_depth);
}

void FieldErrors::add(std::string field, std::string message) {
  errors_.push_back({std::move(field), std::move(message)});
}

void FieldErrors::reject_unknown(const nlohmann::json& body,
                                 std::initializer_list<std::string_view> allowed) {
  std::vector<std::string> names(allowed.begin(), allowed.end());
  for (const auto& [key, value] : body.items()) {
    if (std::find(names.begin(), names.end(), key) != names.end()) continue;
    std::string hint = util::closest_match(key, names);
    add(key, "unknown field" + (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)"));
  }
}

void FieldErrors::throw_if_any() const {
  if (errors_.empty()) return;
  std::string detail = errors_.front().field + ": " + errors_.front().message;
  if (errors_.size() > 1) {
    detail = std::to_string(errors_.size()) + " invalid fields:";
    for (std::size_t i = 0; i < errors_.size(); ++i)
      detail += (i == 0 ? " " : ", ") + errors_[i].field;
  }
  throw sdk::invalid_request(detail, errors_);
}

PageRequest page_request(const std::optional<std::string>& limit,
                         const std::optional<std::string>& cursor) {
  PageRequest page;
  if (limit) {
    int value = 0;
    auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
    if (limit->empty() || ec != std::errc{} || end != limit->data() + limit->size() || value < 1 ||
        value > 100) {
      FieldErrors errors;
      errors.add("limit", "must be an integer from 1 to 100");
      errors.throw_if_any();
    }
    page.limit = value;
  }
  if (cursor) page.cursor = *cursor;
  return page;
}

std::string encode_cursor(const CursorPosition& position) {
  std::string raw = position.created_at + "|" + position.id;
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

CursorPosition decode_cursor(std::string_view cursor) {
  std::string raw(cursor.size(), '\0');
  std::size_t length = 0;
  bool ok = cursor.size() <= 512 && util::is_base64_text(cursor, true) &&
            sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(),
                              cursor.data(), cursor.size(), nullptr, &length, nullptr,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0;
  raw.resize(ok ? length : 0);
  auto bar = raw.find('|');
  if (!ok || bar == std::string::npos || bar == 0 || bar + 1 == raw.size()) {
    FieldErrors errors;
    errors.add("cursor", "not a cursor returned by this list");
    errors.throw_if_any();
  }
  return {raw.substr(0, bar), raw.substr(bar + 1)};
}

}  // namespace portico::partners
