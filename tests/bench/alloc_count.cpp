// libportico_alloc_count.so: counts every heap allocation of the process it is preloaded into
// (LD_PRELOAD), per thread, into a file another process reads while it runs — the (h) scenario
// of tests/bench/run.sh (bench.py allocs) reads it before and after 10,000 requests.
//
// It interposes malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc and
// pvalloc and forwards each to glibc's own (__libc_*), so operator new, the plugins, SQLite and
// libc itself are all counted. Nothing here allocates: the counters live in the shared file.
//
//   PORTICO_ALLOC_COUNT_FILE=/path  the file to create (truncated; 64 KiB); without it nothing is
//                                   counted and every call goes straight to glibc.
//
// The file (little-endian, all uint64 unless said): magic "PALLOC01", slot count, slots used,
// then kSlots slots of {tid (int64), allocations, bytes requested}. A thread takes a slot at its
// first allocation; past kSlots threads share the last slot (tid -1). Readers take the thread's
// name from /proc/PID/task/TID/comm.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);
}

namespace {

constexpr std::size_t kSlots = 1000;

struct Slot {
  std::atomic<std::int64_t> tid;
  std::atomic<std::uint64_t> allocations;
  std::atomic<std::uint64_t> bytes;
};

struct Counters {
  char magic[8];
  std::atomic<std::uint64_t> slot_count;
  std::atomic<std::uint64_t> slots_used;
  Slot slots[kSlots];
};
static_assert(sizeof(Counters) <= 64 * 1024);

// 0: not looked at yet, 1: counting into `counters`, 2: off (no file asked for, or it failed),
// 3: being set up.
std::atomic<int> state{0};
Counters* counters = nullptr;

void open_counters() {
  int expected = 0;
  // The first allocating thread sets up the file; others allocating meanwhile are not counted.
  if (!state.compare_exchange_strong(expected, 3)) return;
  const char* path = std::getenv("PORTICO_ALLOC_COUNT_FILE");  // getenv does not allocate
  if (path == nullptr || *path == '\0') return state.store(2);
  const int fd = ::open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return state.store(2);
  void* map = MAP_FAILED;
  if (::ftruncate(fd, 64 * 1024) == 0) {
    map = ::mmap(nullptr, 64 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  }
  ::close(fd);
  if (map == MAP_FAILED) return state.store(2);
  counters = static_cast<Counters*>(map);
  counters->slot_count.store(kSlots);
  std::memcpy(counters->magic, "PALLOC01", 8);
  state.store(1, std::memory_order_release);
}

__attribute__((tls_model("initial-exec"))) thread_local Slot* my_slot = nullptr;

inline void count(std::size_t bytes) {
  int s = state.load(std::memory_order_acquire);
  if (s == 0) {
    open_counters();
    s = state.load(std::memory_order_acquire);
  }
  if (s != 1) return;
  Slot* slot = my_slot;
  if (slot == nullptr) {
    std::uint64_t index = counters->slots_used.fetch_add(1, std::memory_order_relaxed);
    if (index >= kSlots) {
      index = kSlots - 1;
      counters->slots[index].tid.store(-1, std::memory_order_relaxed);
    } else {
      counters->slots[index].tid.store(static_cast<std::int64_t>(::syscall(SYS_gettid)),
                                       std::memory_order_relaxed);
    }
    slot = my_slot = &counters->slots[index];
  }
  // One writer per slot (but the shared overflow slot): relaxed increments are exact enough
  // there and cost no lock.
  slot->allocations.fetch_add(1, std::memory_order_relaxed);
  slot->bytes.fetch_add(bytes, std::memory_order_relaxed);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* malloc(std::size_t n) {
  count(n);
  return __libc_malloc(n);
}

__attribute__((visibility("default"))) void* calloc(std::size_t n, std::size_t size) {
  count(n * size);
  return __libc_calloc(n, size);
}

__attribute__((visibility("default"))) void* realloc(void* p, std::size_t n) {
  count(n);
  return __libc_realloc(p, n);
}

__attribute__((visibility("default"))) void* memalign(std::size_t alignment, std::size_t n) {
  count(n);
  return __libc_memalign(alignment, n);
}

__attribute__((visibility("default"))) void* aligned_alloc(std::size_t alignment, std::size_t n) {
  count(n);
  return __libc_memalign(alignment, n);
}

__attribute__((visibility("default"))) int posix_memalign(void** out, std::size_t alignment,
                                                          std::size_t n) {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL
  count(n);
  void* p = __libc_memalign(alignment, n);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}

__attribute__((visibility("default"))) void* valloc(std::size_t n) {
  count(n);
  return __libc_valloc(n);
}

__attribute__((visibility("default"))) void* pvalloc(std::size_t n) {
  count(n);
  return __libc_pvalloc(n);
}

}  // extern "C"
