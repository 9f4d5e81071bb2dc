// PORTICO_PLUGIN(Class): the one line that turns a Plugin subclass into a loadable library.
// It exports the plain-C ABI descriptor (read first by the host) and the factory alias in the same
// form as Boost.DLL's BOOST_DLL_ALIAS, without pulling Boost into plugin builds.
#pragma once

#include <cstdint>
#include <memory>

#include "portico/api_version.hpp"
#include "portico/plugin.hpp"

#define PORTICO_DETAIL_EXPORT __attribute__((visibility("default"), used))

// Class must provide `static constexpr const char* kName` and `kVersion` (semver).
// The descriptor is declared `extern` first so the const object gets external linkage.
#define PORTICO_PLUGIN(Class)                                                                    \
  extern "C" {                                                                                   \
  __attribute__((                                                                                \
      visibility("default"))) extern const portico_plugin_abi portico_plugin_descriptor;         \
  __attribute__((used)) const portico_plugin_abi portico_plugin_descriptor = {                   \
      PORTICO_PLUGIN_API_MAJOR, PORTICO_PLUGIN_API_MINOR, PORTICO_BUILD_SIGNATURE, Class::kName, \
      Class::kVersion};                                                                          \
  }                                                                                              \
  namespace {                                                                                    \
  std::unique_ptr<::portico::Plugin> portico_detail_create_plugin() {                            \
    return std::make_unique<Class>();                                                            \
  }                                                                                              \
  }                                                                                              \
  extern "C" {                                                                                   \
  PORTICO_DETAIL_EXPORT const void* portico_create_plugin = reinterpret_cast<const void*>(       \
      reinterpret_cast<std::intptr_t>(&portico_detail_create_plugin));                           \
  }                                                                                              \
  static_assert(true, "PORTICO_PLUGIN(Class) is used with a trailing semicolon")
