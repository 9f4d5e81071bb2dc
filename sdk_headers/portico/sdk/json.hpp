// The one way to parse JSON from outside the process (request bodies, admin bodies, imported
// files, replies read back): nesting depth bounded before anything recursive can run on the value
// (serializing, comparing and copying a parsed value recurse; the parser itself does not), and a
// number too large for a double (1e400) reported as a problem naming where it stands instead of
// escaping as nlohmann's out_of_range.
//
//   JsonParse result = sdk::parse_json(text, 64);
//   if (!result.ok()) ... result.error.message / result.error.field / result.error.byte
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::sdk {

// The default for server.max_json_depth: arrays and objects nested at most this deep.
inline constexpr int kDefaultMaxJsonDepth = 64;

struct JsonError {
  enum class Kind { syntax, too_deep, number_out_of_range };
  Kind kind = Kind::syntax;
  std::string field;    // where it stands: "items[0].quantity", "[3]", "" for the top level
  std::string message;  // "is nested deeper than 64 levels", "is not JSON (at byte 7)", ...
  std::size_t byte = 0;
};

struct JsonParse {
  nlohmann::json value;
  std::optional<JsonError> error;
  bool ok() const { return !error.has_value(); }
};

namespace detail {

// Builds the value with nlohmann's own DOM builder and keeps the path to the element being read,
// so a limit or an overflow names the field.
class BoundedSax {
 public:
  using json = nlohmann::json;

  struct TooDeep {};  // thrown out of the parser: nothing deeper is even read

  BoundedSax(json& root, int max_depth) : dom_(root, true), max_depth_(max_depth) {}

  bool null() { return value(), dom_.null(); }
  bool boolean(bool v) { return value(), dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return value(), dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return value(), dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return value(), dom_.number_float(v, s);
  }
  bool string(json::string_t& v) { return value(), dom_.string(v); }
  bool binary(json::binary_t& v) { return value(), dom_.binary(v); }
  bool start_object(std::size_t n) {
    value();
    enter(false);
    return dom_.start_object(n);
  }
  bool key(json::string_t& k) {
    path_.back().key = k;
    return dom_.key(k);
  }
  bool end_object() {
    path_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    value();
    enter(true);
    return dom_.start_array(n);
  }
  bool end_array() {
    path_.pop_back();
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    failed_ = true;
    error_.byte = position;
    if (e.id == 406) {  // out_of_range: number overflow
      error_.kind = JsonError::Kind::number_out_of_range;
      error_.field = current_path(true);
      error_.message = "is a number too large to represent";
    } else {
      error_.kind = JsonError::Kind::syntax;
      error_.message = "is not JSON (at byte " + std::to_string(position) + ")";
    }
    return false;
  }

  bool too_deep() const { return too_deep_; }
  bool failed() const { return failed_; }
  const JsonError& error() const { return error_; }

 private:
  struct Level {
    bool array = false;
    std::size_t next_index = 0;  // arrays: index of the element being read
    std::size_t index = 0;
    std::string key;  // objects: the member being read
  };
  // A value starts: in an array it takes the next index.
  void value() {
    if (!path_.empty() && path_.back().array) path_.back().index = path_.back().next_index++;
  }
  void enter(bool array) {
    if (static_cast<int>(path_.size()) >= max_depth_) {
      too_deep_ = true;
      error_.kind = JsonError::Kind::too_deep;
      error_.field = current_path(false);
      error_.message = "is nested deeper than " + std::to_string(max_depth_) + " levels";
      throw TooDeep{};
    }
    path_.push_back(Level{array, 0, 0, {}});
  }
  // "items[0].quantity". `pending`: the element whose token failed is still to be pushed (an
  // array element being read takes the next index).
  std::string current_path(bool pending) const {
    std::string out;
    for (std::size_t i = 0; i < path_.size(); ++i) {
      const Level& level = path_[i];
      const bool last = i + 1 == path_.size();
      if (level.array) {
        std::size_t index = (last && pending) ? level.next_index : level.index;
        out += "[" + std::to_string(index) + "]";
      } else {
        if (!out.empty()) out += ".";
        out += level.key;
      }
    }
    return out;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int max_depth_;
  std::vector<Level> path_;
  JsonError error_;
  bool too_deep_ = false;
  bool failed_ = false;
};

}  // namespace detail

// Parses `text` with arrays and objects nested at most `max_depth` deep. Never throws for bad
// input: the error says what and where.
inline JsonParse parse_json(std::string_view text, int max_depth = kDefaultMaxJsonDepth) {
  JsonParse result;
  detail::BoundedSax sax(result.value, max_depth < 1 ? 1 : max_depth);
  try {
    nlohmann::json::sax_parse(text, &sax);
  } catch (const detail::BoundedSax::TooDeep&) {
  }
  if (sax.too_deep() || sax.failed()) {
    result.error = sax.error();
    result.value = nullptr;  // a partial value is never handed out (freed iteratively)
  }
  return result;
}

// Appends `text` as a JSON string, the bytes nlohmann's dump() writes for it: quoted as it is
// when it is all printable ASCII other than '"' and '\\' (ids, times, most names), else through
// nlohmann: its escapes, and its nlohmann::json::type_error for invalid UTF-8. For renderers that
// write JSON text directly instead of building a value and dumping it.
inline void append_json_string(std::string& out, std::string_view text) {
  bool plain = true;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    plain = plain && byte >= 0x20 && byte < 0x7F && byte != '"' && byte != '\\';
  }
  if (plain) {
    out.append(1, '"').append(text).append(1, '"');
  } else {
    out += nlohmann::json(text).dump();
  }
}

}  // namespace portico::sdk
