// sdk::name_this_thread: the name the kernel shows for the thread, cut to Linux's 15 characters.
#include "portico/sdk/thread_name.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <thread>

namespace portico::sdk {
namespace {

std::string name_in_a_thread(std::string_view name) {
  std::string shown;
  std::thread([&] {
    name_this_thread(name);
    char buffer[32] = {};
    pthread_getname_np(pthread_self(), buffer, sizeof buffer);
    shown = buffer;
  }).join();
  return shown;
}

TEST(ThreadName, IsWhatTheKernelShowsCutTo15Characters) {
  EXPECT_EQ(name_in_a_thread("webhook-deliver"), "webhook-deliver");  // 15: as it is
  EXPECT_EQ(name_in_a_thread("worker-3"), "worker-3");
  EXPECT_EQ(name_in_a_thread("a-name-longer-than-fifteen"), "a-name-longer-t");
  EXPECT_EQ(name_in_a_thread(std::string_view("io-1\0tail", 9)).substr(0, 4), "io-1");
}

}  // namespace
}  // namespace portico::sdk
