// A value that counts its live copies in an int the test owns: a callable that captures one shows
// whether its captures were made, moved and destroyed exactly once.
#pragma once

namespace portico::test {

struct Counted {
  explicit Counted(int* alive) : alive(alive) { ++*alive; }
  Counted(Counted&& other) noexcept : alive(other.alive) { ++*alive; }
  Counted(const Counted&) = delete;
  ~Counted() { --*alive; }
  int* alive;
};

}  // namespace portico::test
