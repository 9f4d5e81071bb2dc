// The request path's allocation-free helpers: InlineFunction keeps its captures inside itself and
// destroys them once; RecyclingAllocator hands a thread's freed blocks out again and sends arrays
// (and blocks past the ones it keeps) to the heap.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/util/inline_function.hpp"
#include "core/util/recycling_allocator.hpp"
#include "tests/support/counted.hpp"

namespace portico::util {
namespace {

using test::Counted;

TEST(InlineFunction, CallsWithItsArgumentsAndDestroysItsCapturesOnce) {
  int alive = 0;
  {
    auto shared = std::make_shared<std::string>("kept");  // a capture std::function puts on the heap
    InlineFunction<std::string(std::string&&, int), 64> f(
        [c = Counted(&alive), shared](std::string&& s, int n) { return *shared + s + std::to_string(n); });
    EXPECT_EQ(alive, 1);
    EXPECT_EQ(shared.use_count(), 2);
    InlineFunction<std::string(std::string&&, int), 64> moved = std::move(f);
    EXPECT_FALSE(f);
    ASSERT_TRUE(moved);
    EXPECT_EQ(alive, 1);
    EXPECT_EQ(moved(" and ", 7), "kept and 7");
    moved = nullptr;
    EXPECT_EQ(alive, 0);
    EXPECT_EQ(shared.use_count(), 1);
  }
  EXPECT_EQ(alive, 0);
}

struct Block {
  char bytes[200];
};

TEST(RecyclingAllocator, AFreedBlockIsHandedOutAgainOnTheSameThread) {
  RecyclingAllocator<Block> alloc;
  Block* first = alloc.allocate(1);
  alloc.deallocate(first, 1);
  Block* again = alloc.allocate(1);
  EXPECT_EQ(again, first);
  // More freed at once than it keeps: the rest go back to the heap (nothing leaks: ASan runs).
  std::vector<Block*> many;
  for (std::size_t i = 0; i < RecyclingAllocator<Block>::kKept + 4; ++i) many.push_back(alloc.allocate(1));
  for (Block* block : many) alloc.deallocate(block, 1);
  alloc.deallocate(again, 1);
  // Arrays are not recycled.
  Block* array = alloc.allocate(3);
  alloc.deallocate(array, 3);
}

TEST(RecyclingAllocator, ABlockFreedOnAnotherThreadServesThatThread) {
  RecyclingAllocator<Block> alloc;
  Block* here = alloc.allocate(1);
  Block* there_again = nullptr;
  std::thread([&] {
    alloc.deallocate(here, 1);  // joins this thread's blocks...
    there_again = alloc.allocate(1);
    alloc.deallocate(there_again, 1);
  }).join();  // ...which the thread's end gives back to the heap
  EXPECT_EQ(there_again, here);
}

TEST(RecyclingAllocator, BacksASharedPointer) {
  auto first = std::allocate_shared<std::string>(RecyclingAllocator<std::string>(), 100, 'x');
  const void* where = first.get();
  first.reset();
  auto second = std::allocate_shared<std::string>(RecyclingAllocator<std::string>(), 5, 'y');
  EXPECT_EQ(static_cast<const void*>(second.get()), where);  // the same control block and object
  EXPECT_EQ(*second, "yyyyy");
}

}  // namespace
}  // namespace portico::util
