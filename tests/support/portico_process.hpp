// Runs the real `portico` binary for integration tests and stops it at the end of the test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace portico::test {

// In `extra_env`: not a variable but the child's RLIMIT_NOFILE (soft and hard), e.g.
// std::string(kOpenFileLimit) + "256".
inline constexpr std::string_view kOpenFileLimit = "@RLIMIT_NOFILE=";

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `build/bin/portico args...` to completion (killed after `timeout`).
CommandResult run_portico(const std::vector<std::string>& args,
                          std::chrono::seconds timeout = std::chrono::seconds(30),
                          const std::vector<std::string>& extra_env = {});

std::string portico_binary();

class PorticoProcess {
 public:
  // Starts `portico serve args...`; output goes to a log file in the working dir.
  PorticoProcess(const std::vector<std::string>& args, const std::filesystem::path& workdir,
                 const std::vector<std::string>& extra_env = {});
  ~PorticoProcess();
  PorticoProcess(const PorticoProcess&) = delete;
  PorticoProcess& operator=(const PorticoProcess&) = delete;

  // Polls GET /healthz on the port until it answers 200.
  void wait_ready(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  void signal(int sig);
  // Waits for exit; returns the exit status, or -1 on timeout (the process is then killed).
  int wait_exit(std::chrono::milliseconds timeout);
  bool running();
  std::string output() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::filesystem::path log_;
};

}  // namespace portico::test
