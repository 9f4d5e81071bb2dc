// Shared by the fuzz targets: what counts as a finding. A target runs the code under test on the
// input; the outcomes the code documents (a ProblemError for a request, a ConfigException for a
// config, ...) are expected and swallowed; anything else — another exception escaping, a broken
// invariant — is reported here and aborts, which libFuzzer records as a crash with the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace portico::fuzz {

// An exception type nothing throws: expect_only<Never>(...) treats every exception as a finding.
struct Never {};

[[noreturn]] inline void finding(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "FUZZ FINDING: %.*s%s%.*s\n", static_cast<int>(what.size()), what.data(),
               detail.empty() ? "" : ": ", static_cast<int>(detail.size()), detail.data());
  std::fflush(stderr);
  std::abort();
}

// An invariant of the code under test; `what` says which.
inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) finding(what, detail);
}

// Runs `body`; an exception of type Expected is a documented outcome, any other escaping
// exception is a finding (named with its type and message).
template <typename Expected, typename Body>
bool expect_only(Body&& body) {
  try {
    body();
    return true;
  } catch (const Expected&) {
    return false;
  } catch (const std::exception& e) {
    finding(std::string("unexpected exception ") + typeid(e).name(), e.what());
  } catch (...) {
    finding("unexpected non-std exception");
  }
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input cut at `separator` into at most `parts` pieces (the last one keeps the rest).
inline std::vector<std::string_view> split(std::string_view text, char separator,
                                           std::size_t parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    const std::size_t at = text.find(separator);
    if (at == std::string_view::npos) break;
    out.push_back(text.substr(0, at));
    text.remove_prefix(at + 1);
  }
  out.push_back(text);
  return out;
}

}  // namespace portico::fuzz
