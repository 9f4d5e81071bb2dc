#include "core/pipeline/request_id.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>

#include "core/util/random_id.hpp"

namespace portico::pipeline {

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

// A random per-process prefix plus a counter: unique without a CSPRNG call per request.
void assign_new_request_id(std::string& id) {
  static const std::string prefix = util::random_id("req_", 12);
  // Each thread takes its numbers from the process's counter a block at a time: one write to the
  // counter's line per kBlock requests, where every request of both I/O threads wrote it. Ids stay
  // unique; they are not in the order requests came.
  constexpr std::uint64_t kBlock = 1024;
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::uint64_t next = 0, block_end = 0;
  if (next == block_end) {
    next = counter.fetch_add(kBlock, std::memory_order_relaxed);
    block_end = next + kBlock;
  }
  std::uint64_t n = next++;
  // Twelve base-32 digits (60 bits of the counter): shifts, not divisions.
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuv";
  char digits[12];
  for (int i = 11; i >= 0; --i) {
    digits[i] = alphabet[n & 31];
    n >>= 5;
  }
  // A connection's Request is filled again request after request: when `id` holds one of these
  // already, only its digits are written.
  if (id.size() == prefix.size() + sizeof digits &&
      std::memcmp(id.data(), prefix.data(), prefix.size()) == 0) {
    std::memcpy(id.data() + prefix.size(), digits, sizeof digits);
    return;
  }
  id.assign(prefix).append(digits, sizeof digits);
}

}  // namespace

std::string new_request_id() {
  std::string id;
  assign_new_request_id(id);
  return id;
}

void assign_request_id(std::string& id, std::optional<std::string_view> from_caller) {
  if (from_caller && is_sane_request_id(*from_caller)) {
    id.assign(*from_caller);
  } else {
    assign_new_request_id(id);
  }
}

}  // namespace portico::pipeline
