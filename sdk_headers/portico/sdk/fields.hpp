// Reading a JSON request body field by field, collecting every problem as a FieldError named the
// way the caller wrote it ("items[0].quantity", "[3].price.amount"), so one 400 lists them all.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/http_types.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/json.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/query.hpp"

namespace portico::sdk {

// Characters, not bytes (the JSON parser has already refused malformed UTF-8).
inline std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

inline bool has_control_characters(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string prefix, std::vector<FieldError>& errors)
      : object_(object), prefix_(std::move(prefix)), errors_(errors) {}

  void fail(const std::string& field, std::string message) const {
    errors_.push_back({prefix_ + field, std::move(message)});
  }
  const nlohmann::json* member(const std::string& field) const {
    auto it = object_.find(field);
    return it == object_.end() ? nullptr : &*it;
  }

  // A string of 1..max characters (0..max when !required); one line unless multiline.
  std::optional<std::string> text(const std::string& field, std::size_t max, bool required,
                                  bool multiline = false) const {
    const nlohmann::json* value = member(field);
    if (!value || value->is_null()) {
      if (required) fail(field, "is required");
      return std::nullopt;
    }
    if (!value->is_string()) {
      fail(field, "must be a string");
      return std::nullopt;
    }
    const auto& s = value->get_ref<const std::string&>();
    if (required && s.empty()) {
      fail(field, "must not be empty");
      return std::nullopt;
    }
    if (utf8_length(s) > max) {
      fail(field, "must be at most " + std::to_string(max) + " characters");
      return std::nullopt;
    }
    if (!multiline && has_control_characters(s)) {
      fail(field, "must not contain control characters");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::int64_t> integer(const std::string& field, std::int64_t min, std::int64_t max,
                                      bool required = true) const {
    const nlohmann::json* value = member(field);
    if (!value || value->is_null()) {
      if (required) fail(field, "is required");
      return std::nullopt;
    }
    if (!value->is_number_integer()) {
      fail(field, "must be a whole number");
      return std::nullopt;
    }
    if (value->is_number_unsigned() &&
        value->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
      fail(field, "must be at most " + std::to_string(max));
      return std::nullopt;
    }
    const auto n = value->get<std::int64_t>();
    if (n < min || n > max) {
      fail(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  // One error per member not in `known`, with a hint when a known one is one or two edits away:
  // "is not a known field; did you mean 'tier'?".
  void refuse_unknown(std::initializer_list<std::string_view> known) const {
    const std::vector<std::string_view> names(known.begin(), known.end());
    for (const auto& [key, value] : object_.items()) {
      if (std::find(names.begin(), names.end(), key) != names.end()) continue;
      const std::string hint = closest_name(key, names);
      fail(key, hint.empty() ? "is not a known field"
                             : "is not a known field; did you mean '" + hint + "'?");
    }
  }

  const std::string& prefix() const { return prefix_; }
  std::vector<FieldError>& errors() const { return errors_; }

 private:
  const nlohmann::json& object_;
  std::string prefix_;
  std::vector<FieldError>& errors_;
};

// Most field problems one 400 lists; the detail says when more were found.
inline constexpr std::size_t kMaxListedFieldErrors = 100;

// `text` as JSON, or the 400 naming what is wrong: empty (`hint` says what to send), not JSON
// (with the byte offset), nested deeper than `max_depth`, a number out of range (naming the
// field), or — when `object_only` — not a JSON object.
inline nlohmann::json parse_json_text(std::string_view text, int max_depth, bool object_only = true,
                                      std::string_view hint = "") {
  if (text.empty()) {
    throw invalid_request("The request needs a JSON body" +
                              (hint.empty() ? std::string(".") : ": " + std::string(hint) + "."),
                          {{"body", "is empty"}});
  }
  JsonParse parsed = parse_json(text, max_depth);
  if (!parsed.ok()) {
    const JsonError& error = *parsed.error;
    const std::string field = error.field.empty() ? "body" : error.field;
    switch (error.kind) {
      case JsonError::Kind::too_deep:
        throw invalid_request("The body nests arrays and objects deeper than " +
                                  std::to_string(max_depth) + " levels, the limit.",
                              {{field, error.message}});
      case JsonError::Kind::number_out_of_range:
        throw invalid_request(field + " holds a number too large to represent.",
                              {{field, error.message}});
      case JsonError::Kind::syntax: break;
    }
    throw invalid_request("The body is not valid JSON.", {{"body", error.message}});
  }
  if (object_only && !parsed.value.is_object()) {
    throw invalid_request("The body must be a JSON object.", {{"body", "must be an object"}});
  }
  return std::move(parsed.value);
}

// The request's body as JSON within the operator's nesting limit (server.max_json_depth); see
// parse_json_text.
inline nlohmann::json parse_json_body(const Request& request, bool object_only = true,
                                      std::string_view hint = "") {
  return parse_json_text(request.body, request.max_json_depth, object_only, hint);
}

// The 400 for field problems: the detail names the one problem or counts them, lists at most
// kMaxListedFieldErrors, and ends with `outcome` ("Nothing was changed.").
inline ProblemError invalid_fields(std::vector<FieldError> errors, std::string_view outcome) {
  std::string detail = errors.size() == 1
                           ? errors.front().field + " " + errors.front().message + "."
                           : std::to_string(errors.size()) + " fields are not valid.";
  if (errors.size() > kMaxListedFieldErrors) {
    detail += " The first " + std::to_string(kMaxListedFieldErrors) + " are listed.";
    errors.resize(kMaxListedFieldErrors);
  }
  return invalid_request(detail + " " + std::string(outcome), std::move(errors));
}

// Throws invalid_fields(errors, outcome) when there are any.
inline void refuse_invalid_fields(std::vector<FieldError> errors,
                                  std::string_view outcome = "Nothing was changed.") {
  if (!errors.empty()) throw invalid_fields(std::move(errors), outcome);
}

}  // namespace portico::sdk
