// The plugin API version and the ABI descriptor every plugin exports as plain C.
// The core reads the descriptor before it touches any C++ symbol of the plugin.
#pragma once

#include <cstddef>
#include <cstdint>

#define PORTICO_PLUGIN_API_MAJOR 3
#define PORTICO_PLUGIN_API_MINOR 2

#define PORTICO_DETAIL_STR2(x) #x
#define PORTICO_DETAIL_STR(x) PORTICO_DETAIL_STR2(x)

#if defined(__clang__)
#define PORTICO_DETAIL_COMPILER "clang-" __clang_version__
#elif defined(__GNUC__)
#define PORTICO_DETAIL_COMPILER "gcc-" __VERSION__
#else
#define PORTICO_DETAIL_COMPILER "unknown-compiler"
#endif

#if defined(_GLIBCXX_RELEASE)
#define PORTICO_DETAIL_STDLIB                                                  \
  "libstdc++-" PORTICO_DETAIL_STR(_GLIBCXX_RELEASE) "-abi" PORTICO_DETAIL_STR( \
      _GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define PORTICO_DETAIL_STDLIB "libc++-" PORTICO_DETAIL_STR(_LIBCPP_VERSION)
#else
#define PORTICO_DETAIL_STDLIB "unknown-stdlib"
#endif

#if defined(_GLIBCXX_DEBUG)
#define PORTICO_DETAIL_DEBUG ";stl-debug"
#else
#define PORTICO_DETAIL_DEBUG ""
#endif

#if defined(__SANITIZE_ADDRESS__)
#define PORTICO_DETAIL_ASAN ";asan"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PORTICO_DETAIL_ASAN ";asan"
#endif
#endif
#ifndef PORTICO_DETAIL_ASAN
#define PORTICO_DETAIL_ASAN ""
#endif

#if defined(__SANITIZE_THREAD__)
#define PORTICO_DETAIL_TSAN ";tsan"
#else
#define PORTICO_DETAIL_TSAN ""
#endif

// Like nginx's module signature: everything that must match for two separately built binaries to
// share C++ objects safely. Compared as a whole string by the plugin host.
#define PORTICO_BUILD_SIGNATURE                                                            \
  PORTICO_DETAIL_COMPILER ";" PORTICO_DETAIL_STDLIB ";cxx" PORTICO_DETAIL_STR(__cplusplus) \
      PORTICO_DETAIL_DEBUG PORTICO_DETAIL_ASAN PORTICO_DETAIL_TSAN

extern "C" {

// Plain-C description of a plugin library, exported under kDescriptorSymbol. Never change the
// layout of the first three members: they are how an incompatible plugin gets refused.
struct portico_plugin_abi {
  std::uint32_t api_major;
  std::uint32_t api_minor;
  const char* build_signature;
  const char* name;     // plugin name, e.g. "auth_api_key"
  const char* version;  // semver of the plugin itself, e.g. "1.2.0"
};
}

namespace portico {

inline constexpr std::uint32_t kPluginApiMajor = PORTICO_PLUGIN_API_MAJOR;
inline constexpr std::uint32_t kPluginApiMinor = PORTICO_PLUGIN_API_MINOR;
inline constexpr const char* kBuildSignature = PORTICO_BUILD_SIGNATURE;

// Symbol names looked up in every plugin library.
inline constexpr const char* kDescriptorSymbol = "portico_plugin_descriptor";
inline constexpr const char* kFactorySymbol = "portico_create_plugin";

}  // namespace portico
