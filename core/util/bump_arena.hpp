// A buffer handed out front to back, for many small objects of one short-lived owner (a request,
// a connection's request after request): nothing is freed piecemeal — reset() takes it all back
// once none of it is in use — and what does not fit comes from the heap (and goes back there).
// Not thread-safe: its owner allocates from one thread at a time.
#pragma once

#include <cstddef>
#include <new>

namespace portico::util {

template <std::size_t Bytes>
class BumpArena {
 public:
  static constexpr std::size_t kBytes = Bytes;

  BumpArena() noexcept {}  // the buffer is not zeroed: it is only handed out
  BumpArena(const BumpArena&) = delete;
  BumpArena& operator=(const BumpArena&) = delete;

  void* allocate(std::size_t bytes) {
    constexpr std::size_t align = alignof(std::max_align_t);
    const std::size_t rounded = (bytes + align - 1) / align * align;
    if (rounded <= kBytes - used_) {
      void* p = buffer_ + used_;
      used_ += rounded;
      return p;
    }
    return ::operator new(bytes);
  }
  void deallocate(void* p) noexcept {
    if (!owns(p)) ::operator delete(p);  // the buffer's own memory comes back with reset()
  }
  // Only when nothing handed out before is still in use.
  void reset() noexcept { used_ = 0; }

  bool owns(const void* p) const noexcept {
    const auto* byte = static_cast<const unsigned char*>(p);
    return byte >= buffer_ && byte < buffer_ + kBytes;
  }
  std::size_t used() const noexcept { return used_; }

 private:
  alignas(std::max_align_t) unsigned char buffer_[kBytes];
  std::size_t used_ = 0;
};

}  // namespace portico::util
