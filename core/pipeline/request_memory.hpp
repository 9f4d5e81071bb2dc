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

namespace portico::pipeline {

enum class StageStatus { Continue, Respond, Pending };
struct Exchange;

class Resumption {
 public:
  static constexpr std::size_t kCapacity = 256;

  Resumption() noexcept = default;
  Resumption(std::nullptr_t) noexcept {}  // NOLINT: as std::function
  template <class F, class Fn = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<Fn, Resumption> &&
                                     std::is_invocable_r_v<StageStatus, Fn&, Exchange&>>>
  Resumption(F&& f) {  // NOLINT: as std::function
    static_assert(sizeof(Fn) <= kCapacity && alignof(Fn) <= alignof(std::max_align_t),
                  "a resumption step's captures must fit in Resumption::kCapacity");
    static_assert(std::is_nothrow_move_constructible_v<Fn>);
    ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(f));
    ops_ = &kOps<Fn>;
  }
  Resumption(Resumption&& other) noexcept { take(other); }
  Resumption& operator=(Resumption&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  Resumption& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  Resumption(const Resumption&) = delete;
  Resumption& operator=(const Resumption&) = delete;
  ~Resumption() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  StageStatus operator()(Exchange& exchange) { return ops_->call(storage_, exchange); }

 private:
  struct Ops {
    StageStatus (*call)(void*, Exchange&);
    void (*move)(void* from, void* to) noexcept;
    void (*destroy)(void*) noexcept;
  };
  template <class Fn>
  static constexpr Ops kOps = {
      [](void* f, Exchange& exchange) { return (*static_cast<Fn*>(f))(exchange); },
      [](void* from, void* to) noexcept {
        ::new (to) Fn(std::move(*static_cast<Fn*>(from)));
        static_cast<Fn*>(from)->~Fn();
      },
      [](void* f) noexcept { static_cast<Fn*>(f)->~Fn(); }};

  void take(Resumption& other) noexcept {
    if (!other.ops_) return;
    other.ops_->move(other.storage_, storage_);
    ops_ = std::exchange(other.ops_, nullptr);
  }
  void reset() noexcept {
    if (ops_) std::exchange(ops_, nullptr)->destroy(storage_);
  }

  const Ops* ops_ = nullptr;
  alignas(std::max_align_t) unsigned char storage_[kCapacity];
};

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
