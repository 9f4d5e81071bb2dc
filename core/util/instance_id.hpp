// Numbers for the objects a thread-local memo remembers something of (request metrics, the key
// directory, the usage recorder): never the same twice in the process, so a memo never takes a
// new object for a destroyed one that lived at the same address.
#pragma once

#include <atomic>
#include <cstdint>

namespace portico::util {

inline std::uint64_t next_instance_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace portico::util
