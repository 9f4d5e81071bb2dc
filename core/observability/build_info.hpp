// What portico_build_info reports: the gateway's version and the plugin API it speaks.
#pragma once

#include <string>

#include "portico/api_version.hpp"

namespace portico::observability {

// project(VERSION) of the top-level CMakeLists.txt, passed in by core/CMakeLists.txt.
inline constexpr const char* kGatewayVersion = PORTICO_VERSION;

inline std::string plugin_api_version() {
  return std::to_string(kPluginApiMajor) + "." + std::to_string(kPluginApiMinor);
}

}  // namespace portico::observability
