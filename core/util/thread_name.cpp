#include "core/util/thread_name.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstring>

namespace portico::util {

void name_this_thread(std::string_view name) {
  char buffer[16];
  const std::size_t n = std::min<std::size_t>(name.size(), sizeof buffer - 1);
  std::memcpy(buffer, name.data(), n);
  buffer[n] = '\0';
  pthread_setname_np(pthread_self(), buffer);  // only fails on a name over 15 characters
}

}  // namespace portico::util
