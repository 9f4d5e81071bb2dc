// Per-request memory for the pipeline's own small objects, so a request that every stage answers
// at once allocates none of them:
//   Resumption     the step an asynchronous stage resumes with — a move-only callable whose
//                  captures live inside it (a std::function would allocate for any capture over
//                  16 bytes: an AuthResult, a Response).
//   RequestArena   a bump buffer inside the request for the completions the stages create
//                  (Completion's state: one holder per asynchronous call); ArenaAllocator hands
//                  it out. A completion's control block keeps the request — and so the buffer —
//                  alive through the allocator it holds, however long a plugin keeps a copy.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "core/util/bump_arena.hpp"
#include "core/util/inline_function.hpp"

namespace portico::pipeline {

enum class StageStatus { Continue, Respond, Pending };
struct Exchange;

// The step an asynchronous stage resumes with (see the top of this file).
using Resumption = util::InlineFunction<StageStatus(Exchange&), 256>;

// Room for the completions of one request (about 100 bytes each, a few per request); past it,
// the heap. Used under the request's lock only (stages run one at a time).
using RequestArena = util::BumpArena<1024>;

template <class T>
class ArenaAllocator {
 public:
  using value_type = T;
  // `arena` shares ownership of whatever keeps the arena alive (the request).
  explicit ArenaAllocator(std::shared_ptr<RequestArena> arena) noexcept : arena_(std::move(arena)) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena_(other.arena_) {}  // NOLINT

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= alignof(std::max_align_t));
    return static_cast<T*>(arena_->allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) noexcept { arena_->deallocate(p); }

  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena_ == other.arena_;
  }

 private:
  template <class U>
  friend class ArenaAllocator;
  std::shared_ptr<RequestArena> arena_;
};

}  // namespace portico::pipeline
