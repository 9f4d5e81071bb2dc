// Readable config-schema declarations for plugin authors:
//   schema({ integer("limit").min(1).fallback(100), string("mode").one_of({"a", "b"}) })
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "portico/config_schema.hpp"

namespace portico::sdk {

class FieldBuilder {
 public:
  FieldBuilder(std::string key, FieldType type) {
    field_.key = std::move(key);
    field_.type = type;
  }
  FieldBuilder& describe(std::string text) {
    field_.description = std::move(text);
    return *this;
  }
  FieldBuilder& required() {
    field_.required = true;
    return *this;
  }
  FieldBuilder& fallback(nlohmann::json value) {
    field_.default_value = std::move(value);
    return *this;
  }
  FieldBuilder& min(double v) {
    field_.min = v;
    return *this;
  }
  FieldBuilder& max(double v) {
    field_.max = v;
    return *this;
  }
  FieldBuilder& one_of(std::vector<std::string> values) {
    field_.one_of = std::move(values);
    return *this;
  }
  operator ConfigField() const { return field_; }  // NOLINT(google-explicit-constructor)

 private:
  ConfigField field_;
};

inline FieldBuilder string(std::string key) {
  return {std::move(key), FieldType::string};
}
inline FieldBuilder integer(std::string key) {
  return {std::move(key), FieldType::integer};
}
inline FieldBuilder number(std::string key) {
  return {std::move(key), FieldType::number};
}
inline FieldBuilder boolean(std::string key) {
  return {std::move(key), FieldType::boolean};
}
inline FieldBuilder duration(std::string key) {
  return {std::move(key), FieldType::duration};
}
inline FieldBuilder size(std::string key) {
  return {std::move(key), FieldType::size};
}
inline FieldBuilder string_array(std::string key) {
  return {std::move(key), FieldType::string_array};
}
inline FieldBuilder table(std::string key) {
  return {std::move(key), FieldType::table};
}

inline ConfigSchema schema(std::initializer_list<ConfigField> fields) {
  return ConfigSchema{fields};
}

}  // namespace portico::sdk
