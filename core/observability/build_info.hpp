// What portico_build_info reports: the gateway's version and the plugin API it speaks.
#pragma once

#include <string>

#include "portico/api_version.hpp"

namespace portico::observability {

// Keep in step with project(VERSION) in the top-level CMakeLists.txt and `portico version`.
inline constexpr const char* kGatewayVersion = "0.1.0";

inline std::string plugin_api_version() {
  return std::to_string(kPluginApiMajor) + "." + std::to_string(kPluginApiMinor);
}

}  // namespace portico::observability
