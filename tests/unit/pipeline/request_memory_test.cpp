// The pipeline's per-request memory: Resumption keeps its captures inline and destroys them once;
// RequestArena hands out its buffer, then the heap; a completion allocated from the arena keeps
// the arena's owner alive for as long as any copy of it exists, and never frees arena memory.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/pipeline/stage.hpp"
#include "tests/support/counted.hpp"

namespace portico::pipeline {
namespace {

using test::Counted;

TEST(Resumption, RunsItsStepAndDestroysEachCaptureOnce) {
  int alive = 0;
  {
    std::string big(100, 'x');  // longer than any short-string buffer
    Resumption step([c = Counted(&alive), big](Exchange&) {
      return big.size() == 100 ? StageStatus::Respond : StageStatus::Continue;
    });
    EXPECT_EQ(alive, 1);
    Resumption moved = std::move(step);
    EXPECT_FALSE(step);
    EXPECT_TRUE(moved);
    EXPECT_EQ(alive, 1);
    Resumption assigned;
    assigned = std::move(moved);
    EXPECT_EQ(alive, 1);
    alignas(Exchange) unsigned char unused[sizeof(Exchange)];  // the step never touches it
    EXPECT_EQ(assigned(*reinterpret_cast<Exchange*>(unused)), StageStatus::Respond);
    assigned = nullptr;
    EXPECT_EQ(alive, 0);
  }
  EXPECT_EQ(alive, 0);
}

TEST(RequestArena, HandsOutItsBufferThenTheHeap) {
  RequestArena arena;
  void* first = arena.allocate(100);
  void* second = arena.allocate(100);
  EXPECT_TRUE(arena.owns(first));
  EXPECT_TRUE(arena.owns(second));
  EXPECT_GT(static_cast<unsigned char*>(second), static_cast<unsigned char*>(first));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(second) % alignof(std::max_align_t), 0u);
  void* big = arena.allocate(RequestArena::kBytes);  // no room left: the heap
  EXPECT_FALSE(arena.owns(big));
  arena.deallocate(big);
  arena.deallocate(first);  // inside the buffer: nothing to do
  arena.deallocate(second);
}

TEST(RequestArena, ACompletionInTheArenaKeepsItsOwnerAliveUntilTheLastCopyGoes) {
  struct Owner {
    RequestArena arena;
    std::shared_ptr<CancelState> cancel = std::make_shared<CancelState>();
  };
  auto owner = std::make_shared<Owner>();
  std::weak_ptr<Owner> watch = owner;
  int answered = 0;
  Completion<int> done(std::allocator_arg,
                       ArenaAllocator<char>(std::shared_ptr<RequestArena>(owner, &owner->arena)),
                       [&answered](int&& value, std::exception_ptr error) {
                         if (!error) answered = value;
                       },
                       owner->cancel);
  EXPECT_GT(owner->arena.used(), 0u);  // the state is in the arena
  Completion<int> copy = done;
  owner.reset();
  EXPECT_FALSE(watch.expired());  // the completion holds the owner
  copy(7);
  EXPECT_EQ(answered, 7);
  done = Completion<int>();
  EXPECT_FALSE(watch.expired());
  copy = Completion<int>();
  EXPECT_TRUE(watch.expired());  // the last copy gone: the owner, and its arena, with it
}

}  // namespace
}  // namespace portico::pipeline
