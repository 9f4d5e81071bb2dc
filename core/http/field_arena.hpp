// Where a connection's request parsers keep the header fields and the target: a buffer the
// connection reuses from one request to the next, handed out front to back and taken back whole
// when the next request's parser starts (the fields of one request are gone by then: each parser
// is destroyed before the next is made). A request whose header does not fit takes the rest from
// the heap. Without an arena (the fuzzer, tests), FieldAllocator is the heap.
#pragma once

#include <cstddef>
#include <new>

#include "core/util/bump_arena.hpp"

namespace portico::http {

// A typical request's fields (a few headers, the target) fit several times over.
using FieldArena = util::BumpArena<2048>;

template <class T>
class FieldAllocator {
 public:
  using value_type = T;

  FieldAllocator() noexcept = default;  // the heap
  explicit FieldAllocator(FieldArena* arena) noexcept : arena_(arena) {}
  template <class U>
  FieldAllocator(const FieldAllocator<U>& other) noexcept : arena_(other.arena_) {}  // NOLINT

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= alignof(std::max_align_t));
    if (arena_) return static_cast<T*>(arena_->allocate(n * sizeof(T)));
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) noexcept {
    if (arena_) return arena_->deallocate(p);
    ::operator delete(p);
  }

  template <class U>
  bool operator==(const FieldAllocator<U>& other) const noexcept {
    return arena_ == other.arena_;
  }
  template <class U>
  bool operator!=(const FieldAllocator<U>& other) const noexcept {
    return arena_ != other.arena_;
  }

 private:
  template <class U>
  friend class FieldAllocator;
  FieldArena* arena_ = nullptr;
};

}  // namespace portico::http
