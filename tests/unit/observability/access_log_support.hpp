// What the access-log tests share: a time from RFC 3339 text, and an API key to redact.
#pragma once

#include <chrono>

#include "core/util/time.hpp"

namespace portico::observability::access_test {

inline std::chrono::system_clock::time_point at(const char* rfc3339) {
  return *util::parse_rfc3339(rfc3339);
}

inline const char* const kKey = "pk_live_Z9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gFe";

}  // namespace portico::observability::access_test
