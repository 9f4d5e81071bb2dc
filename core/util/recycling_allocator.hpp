// Memory for an object made and dropped once per request (the pipeline's request in flight, with
// its shared_ptr control block): each thread keeps up to kKept freed blocks of it and hands them
// out again, so steady traffic takes nothing from malloc — the way Asio recycles its handlers'
// memory. A block freed on another thread (a worker answered last) joins that thread's blocks.
// Only single objects are recycled; arrays go to the heap.
#pragma once

#include <cstddef>
#include <new>

namespace portico::util {

template <class T>
class RecyclingAllocator {
 public:
  using value_type = T;
  static constexpr std::size_t kKept = 8;

  RecyclingAllocator() noexcept = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= alignof(std::max_align_t));
    Kept& kept = this_thread();
    if (n == 1 && kept.count > 0) return static_cast<T*>(kept.blocks[--kept.count]);
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    Kept& kept = this_thread();
    if (n == 1 && !kept.gone && kept.count < kKept) {
      kept.blocks[kept.count++] = p;
      return;
    }
    ::operator delete(p);
  }

  template <class U>
  bool operator==(const RecyclingAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const RecyclingAllocator<U>&) const noexcept {
    return false;
  }

 private:
  struct Kept {
    void* blocks[kKept];
    std::size_t count = 0;
    bool gone = false;  // the thread is ending: whatever is freed from now on goes to the heap
    ~Kept() {
      gone = true;
      while (count > 0) ::operator delete(blocks[--count]);
    }
  };
  static Kept& this_thread() {
    thread_local Kept kept;
    return kept;
  }
};

}  // namespace portico::util
