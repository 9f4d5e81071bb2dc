// Names the calling thread as `top -H`, `ps -L`, perf and /proc/PID/task/TID/comm show it
// ("io-1", "worker-3", "access-log"). Linux keeps at most 15 characters; longer names are cut.
// Never the main thread's: its name is the process's (pidof portico).
#pragma once

#include <string_view>

namespace portico::util {

void name_this_thread(std::string_view name);

}  // namespace portico::util
