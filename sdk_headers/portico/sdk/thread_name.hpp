// Names the calling thread as `top -H`, `ps -L`, perf and /proc/PID/task/TID/comm show it
// ("io-1", "worker-3", "webhook-deliver"). Linux keeps at most 15 characters; longer names are
// cut. Never the main thread's: its name is the process's (pidof portico). The core's threads and
// the plugins' use the same call, so a profile tells them apart.
#pragma once

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace portico::sdk {

inline void name_this_thread(std::string_view name) {
  char buffer[16];
  const std::size_t n = std::min<std::size_t>(name.size(), sizeof buffer - 1);
  std::memcpy(buffer, name.data(), n);
  buffer[n] = '\0';
  pthread_setname_np(pthread_self(), buffer);  // only fails on a name over 15 characters
}

}  // namespace portico::sdk
