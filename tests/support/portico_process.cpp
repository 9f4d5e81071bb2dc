#include "tests/support/portico_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::test {
namespace {

pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& workdir,
            const std::filesystem::path& log, const std::vector<std::string>& extra_env) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    if (::chdir(workdir.c_str()) != 0) ::_exit(127);
    for (const auto& kv : extra_env) {
      if (kv.starts_with(kOpenFileLimit)) {
        // Soft and hard, as `ulimit -n N` in a shell: the gateway cannot raise it.
        const rlim_t n = std::stoul(kv.substr(kOpenFileLimit.size()));
        rlimit limit{n, n};
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(126);
        continue;
      }
      ::putenv(const_cast<char*>(kv.c_str()));
    }
    std::string binary = portico_binary();
    std::vector<char*> argv;
    argv.push_back(binary.data());
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string portico_binary() {
  return std::string(PORTICO_BINARY_DIR) + "/bin/portico";
}

CommandResult run_portico(const std::vector<std::string>& args, std::chrono::seconds timeout,
                          const std::vector<std::string>& extra_env) {
  TempDir scratch;
  auto log = scratch / "output.log";
  pid_t pid = spawn(args, PORTICO_SOURCE_DIR, log, extra_env);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  CommandResult result;
  while (true) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      result.exit_code = decode_status(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.exit_code = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  result.output = read_file(log);
  return result;
}

PorticoProcess::PorticoProcess(const std::vector<std::string>& args,
                               const std::filesystem::path& workdir,
                               const std::vector<std::string>& extra_env)
    : log_(workdir / "portico-output.log") {
  std::vector<std::string> full{"serve"};
  full.insert(full.end(), args.begin(), args.end());
  pid_ = spawn(full, workdir, log_, extra_env);
}

PorticoProcess::~PorticoProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool PorticoProcess::running() {
  if (exit_status_ != -1 || pid_ <= 0) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_status_ = decode_status(status);
    return false;
  }
  return true;
}

void PorticoProcess::wait_ready(std::uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) throw std::runtime_error("portico exited early:\n" + output());
    try {
      if (http_request(port, "GET", "/healthz").status == 200) return;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("portico did not become ready:\n" + output());
}

void PorticoProcess::signal(int sig) {
  ::kill(pid_, sig);
}

int PorticoProcess::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return exit_status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exit_status_ = decode_status(status);
  return -1;
}

std::string PorticoProcess::output() const {
  return read_file(log_);
}

}  // namespace portico::test
