// X-Request-Id: the caller's when it is sane, otherwise a fresh one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portico::pipeline {

// Sane = 1..128 characters of [A-Za-z0-9._:-]. Anything else is replaced, never echoed.
bool is_sane_request_id(std::string_view id);
std::string new_request_id();  // "req_" + 24 lowercase alphanumerics, unique per process run
// Sets `id` to the caller's id when it is sane, else to a new one, in the string's own memory (a
// request reused by its connection allocates nothing for it).
void assign_request_id(std::string& id, std::optional<std::string_view> from_caller);

}  // namespace portico::pipeline
