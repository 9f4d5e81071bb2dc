// Reading a JSON request body field by field, collecting every problem as a FieldError named the
// way the caller wrote it ("items[0].quantity", "[3].price.amount"), so one 400 lists them all.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/problem.hpp"

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

  void refuse_unknown(std::initializer_list<const char*> known) const {
    for (const auto& [key, value] : object_.items()) {
      bool listed = false;
      for (const char* k : known) listed = listed || key == k;
      if (!listed) fail(key, "is not a known field");
    }
  }

  const std::string& prefix() const { return prefix_; }
  std::vector<FieldError>& errors() const { return errors_; }

 private:
  const nlohmann::json& object_;
  std::string prefix_;
  std::vector<FieldError>& errors_;
};

}  // namespace portico::sdk
