// A throwaway PostgreSQL server for tests: a cluster made by initdb in a temporary directory
// (trust authentication, superuser `postgres`, UTF8, locale C), the postmaster on 127.0.0.1 and a
// free port with its Unix socket in that directory, no fsync; its log in <dir>/postgres.log.
// Stopped (SIGINT — a fast shutdown — then SIGKILL after 10 s) by stop() or the destructor;
// start() after stop() brings the same cluster back on the same port (an outage and its end).
//
//   auto url = portico::test::PostgresServer::shared().create_database();  // a fresh database
//
// shared() is one server per test binary, started on first use and stopped at exit, so initdb
// runs once per binary and each test isolates itself in a database of its own. The binaries come
// from `pg_config --bindir`, else the newest /usr/lib/postgresql/<version>/bin, else PATH;
// available() is false when none has initdb, postgres and createdb (Debian: postgresql-15).
//
// initdb and postgres refuse to run as root: under root they run as the `postgres` system user
// (`nobody` when there is none), which then owns the temporary directory; clients (createdb, your
// libpq connections) stay root. When started from the main thread the postmaster also gets a
// parent-death signal (SIGINT), so a test binary that crashes or is killed leaves no server behind
// (only its temporary directory).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

extern char** environ;

namespace portico::test {

class PostgresServer {
 public:
  PostgresServer() : dir_(std::make_unique<TempDir>()), port_(free_port()) {}
  ~PostgresServer() {
    stop();
    // In a fork of the test process (a death test's child, say) that exits normally, the
    // directory is the parent's live cluster: left alone.
    if (::getpid() != creator_) static_cast<void>(dir_.release());
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // The directory holding initdb, postgres and createdb; empty when there is none.
  static const std::string& bin_dir() {
    static const std::string dir = find_bin_dir();
    return dir;
  }

  static bool available() { return !bin_dir().empty(); }

  // One server per test process: started on the first call (again after a stop()), stopped when
  // the process exits.
  static PostgresServer& shared() {
    static PostgresServer server;
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    if (!server.running()) server.start();
    return server;
  }

  // initdb (the first time), then the postmaster; returns once it accepts connections. Throws
  // std::runtime_error with initdb's output or the end of the server's log when it cannot.
  void start() {
    if (running()) return;
    if (!available()) throw std::runtime_error("PostgreSQL is not installed (no initdb found)");
    user_ = server_user();
    if (user_.drop && ::chown(dir_->path().c_str(), user_.uid, user_.gid) != 0) {
      throw std::runtime_error("chown " + dir_->path().string() +
                               " failed: " + std::strerror(errno));
    }
    if (!std::filesystem::exists(data_dir() / "PG_VERSION")) {
      const auto started = std::chrono::steady_clock::now();
      const Result result = run({bin("initdb"), "-D", data_dir().string(), "--auth=trust",
                                 "--username=postgres", "--encoding=UTF8", "--locale=C", "-N"},
                                true);
      if (result.status != 0) {
        throw std::runtime_error("initdb " + describe(result.status) + ":\n" + result.output);
      }
      initdb_time_ = std::chrono::steady_clock::now() - started;
    }
    // The port is picked before start() so port() is known early; another process may bind it
    // first, so the first start tries a few others. A restart keeps its port.
    for (int attempt = 1;; ++attempt) {
      if (launch()) return;
      const std::string log = read_file(log_path());
      const bool port_taken = log.find("could not bind") != std::string::npos ||
                              log.find("could not create any TCP/IP sockets") != std::string::npos;
      if (!port_taken || ever_started_ || attempt == 5) {
        throw std::runtime_error("postgres exited at start (127.0.0.1:" + std::to_string(port_) +
                                 "); " + log_tail());
      }
      port_ = free_port();
    }
  }

  // A fast shutdown (SIGINT); SIGKILL when the server has not exited within 10 s. Idempotent.
  void stop() {
    if (pid_ <= 0) return;
    if (::getpid() != owner_) {  // a fork of the test process: the server is its parent's
      pid_ = -1;
      return;
    }
    ::kill(pid_, SIGINT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }

  // True while the postmaster runs (reaps it when it has died).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::getpid() == owner_ && ::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }

  std::uint16_t port() const { return port_; }
  std::string socket_dir() const { return dir_->path().string(); }
  std::filesystem::path log_path() const { return *dir_ / "postgres.log"; }
  // How long the last initdb took (zero before the first start()).
  std::chrono::steady_clock::duration initdb_time() const { return initdb_time_; }

  // The libpq URI of database `db` over TCP, and over the Unix socket.
  std::string url(const std::string& db) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }
  std::string socket_url(const std::string& db) const {
    return "postgresql:///" + db + "?host=" + socket_dir() + "&port=" + std::to_string(port_) +
           "&user=postgres";
  }

  // Creates a fresh, empty database named <prefix>_<counter>_<pid> and returns url() of it.
  // The prefix is lower-case letters, digits and '_' (at most 40), starting with a letter or '_'.
  // Throws std::runtime_error with createdb's output when it fails.
  std::string create_database(const std::string& prefix = "t") {
    if (!valid_prefix(prefix)) {
      throw std::invalid_argument("database prefix '" + prefix + "': use [a-z_][a-z0-9_]{0,39}");
    }
    if (pid_ <= 0) throw std::logic_error("PostgresServer::create_database before start()");
    const std::string name =
        prefix + "_" + std::to_string(++databases_) + "_" + std::to_string(::getpid());
    const Result result = run({bin("createdb"), "-h", "127.0.0.1", "-p", std::to_string(port_),
                               "-U", "postgres", "-w", name},
                              false);
    if (result.status != 0) {
      throw std::runtime_error("createdb " + name + " " + describe(result.status) + ": " +
                               result.output);
    }
    return url(name);
  }

 private:
  struct User {
    bool drop = false;  // run initdb and postgres as uid/gid (we are root)
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
  };

  struct Result {
    int status = 0;  // as from waitpid
    std::string output;
  };

  static std::string find_bin_dir() {
    namespace fs = std::filesystem;
    const auto usable = [](const fs::path& dir) {
      for (const char* tool : {"initdb", "postgres", "createdb"}) {
        if (::access((dir / tool).c_str(), X_OK) != 0) return false;
      }
      return true;
    };
    if (FILE* pipe = ::popen("pg_config --bindir 2>/dev/null", "r")) {
      char line[4096] = {};
      const bool read = std::fgets(line, sizeof line, pipe) != nullptr;
      ::pclose(pipe);
      std::string dir = read ? line : "";
      while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
      if (!dir.empty() && usable(dir)) return dir;
    }
    std::error_code error;
    fs::path newest;
    double newest_version = -1;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", error)) {
      const std::string name = entry.path().filename().string();
      char* end = nullptr;
      const double version = std::strtod(name.c_str(), &end);
      if (end == name.c_str() || *end != '\0') continue;
      if (version > newest_version && usable(entry.path() / "bin")) {
        newest_version = version;
        newest = entry.path() / "bin";
      }
    }
    if (!newest.empty()) return newest.string();
    if (const char* path = std::getenv("PATH")) {
      std::stringstream dirs(path);
      for (std::string dir; std::getline(dirs, dir, ':');) {
        if (!dir.empty() && usable(dir)) return dir;
      }
    }
    return {};
  }

  // Ourselves, or when we are root the `postgres` system user (else `nobody`).
  static User server_user() {
    User user;
    if (::geteuid() != 0) return user;
    for (const char* name : {"postgres", "nobody"}) {
      passwd entry{};
      passwd* found = nullptr;
      std::vector<char> buffer(16384);
      if (::getpwnam_r(name, &entry, buffer.data(), buffer.size(), &found) != 0 || !found ||
          found->pw_uid == 0) {
        continue;
      }
      user.drop = true;
      user.uid = found->pw_uid;
      user.gid = found->pw_gid;
      int count = 32;
      user.groups.resize(count);
      if (::getgrouplist(name, user.gid, user.groups.data(), &count) < 0) {
        user.groups.resize(count);
        ::getgrouplist(name, user.gid, user.groups.data(), &count);
      }
      user.groups.resize(count);
      return user;
    }
    throw std::runtime_error(
        "running as root, and there is no postgres or nobody user to run "
        "PostgreSQL as");
  }

  static bool valid_prefix(const std::string& prefix) {
    if (prefix.empty() || prefix.size() > 40 || (prefix[0] >= '0' && prefix[0] <= '9'))
      return false;
    for (const char c : prefix) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
  }

  static std::string describe(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "failed";
  }

  static std::string bin(const char* tool) { return bin_dir() + "/" + tool; }
  std::filesystem::path data_dir() const { return *dir_ / "data"; }

  // Starts the postmaster and waits (≤ 20 s) until it is ready and accepts connections on the
  // port. False when it exited instead (its log says why); throws when it never got ready.
  bool launch() {
    const std::string log = log_path().string();
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log + ": " + std::strerror(errno));
    if (user_.drop && ::fchown(log_fd, user_.uid, user_.gid) != 0) {
      ::close(log_fd);
      throw std::runtime_error("chown " + log + " failed: " + std::strerror(errno));
    }
    // clang-format off
    const std::vector<std::string> args = {
        bin("postgres"), "-D", data_dir().string(), "-p", std::to_string(port_),
        "-c", "listen_addresses=127.0.0.1",
        "-c", "unix_socket_directories=" + socket_dir(),
        "-c", "fsync=off",
        "-c", "full_page_writes=off",
        "-c", "synchronous_commit=on",
        "-c", "max_connections=200",
        "-c", "shared_buffers=128MB",
        "-c", "logging_collector=off",
        "-c", "log_destination=stderr"};
    // clang-format on
    try {
      pid_ = spawn(args, log_fd, true);
      owner_ = ::getpid();
    } catch (...) {
      ::close(log_fd);
      throw;
    }
    ::close(log_fd);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!ready()) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        stop();
        throw std::runtime_error("postgres did not accept connections on 127.0.0.1:" +
                                 std::to_string(port_) + " within 20 s; " + log_tail());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ever_started_ = true;
    return true;
  }

  // postmaster.pid names our postmaster and says "ready" (line 8), and the port accepts.
  bool ready() const {
    std::ifstream in(data_dir() / "postmaster.pid");
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(in, line)) lines.push_back(line);
    if (lines.size() < 8 || lines[0] != std::to_string(pid_) || lines[7].rfind("ready", 0) != 0) {
      return false;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    ::close(fd);
    return ok;
  }

  std::string log_tail(std::size_t count = 30) const {
    std::ifstream in(log_path());
    std::deque<std::string> lines;
    for (std::string line; std::getline(in, line);) {
      lines.push_back(line);
      if (lines.size() > count) lines.pop_front();
    }
    std::string text = "its log " + log_path().string() + " ends:";
    for (const auto& line : lines) text += "\n  " + line;
    return text;
  }

  // Runs a tool to its end; its stdout and stderr together in output.
  Result run(const std::vector<std::string>& args, bool server_side) const {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = -1;
    try {
      pid = spawn(args, fds[1], server_side);
    } catch (...) {
      ::close(fds[0]);
      ::close(fds[1]);
      throw;
    }
    ::close(fds[1]);
    Result result;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
      if (n > 0) {
        result.output.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
    ::close(fds[0]);
    while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
    }
    return result;
  }

  // Forks and execs args[0] with stdin from /dev/null and stdout and stderr to output_fd, no other
  // descriptor inherited (a server must not hold the test's sockets open), and no PG* variables
  // from the environment. server_side: as the unprivileged user when we are root, C locale, and
  // a parent-death signal when forked from the main thread. Everything the child needs is
  // prepared here: between fork and exec only async-signal-safe calls.
  pid_t spawn(const std::vector<std::string>& args, int output_fd, bool server_side) const {
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> variables;
    for (char** variable = environ; variable && *variable; ++variable) {
      const std::string entry = *variable;
      if (entry.rfind("PG", 0) == 0 ||
          (server_side && (entry.rfind("LC_", 0) == 0 || entry.rfind("LANG=", 0) == 0))) {
        continue;
      }
      variables.push_back(entry);
    }
    variables.push_back(server_side ? "LC_ALL=C" : "PGCONNECT_TIMEOUT=10");
    std::vector<char*> envp;
    for (const auto& variable : variables) envp.push_back(const_cast<char*>(variable.c_str()));
    envp.push_back(nullptr);
    const bool drop = server_side && user_.drop;
    const std::string cwd = dir_->path().string();
    const pid_t parent = ::getpid();
    const bool main_thread = static_cast<pid_t>(::syscall(SYS_gettid)) == parent;
    const long open_max = ::sysconf(_SC_OPEN_MAX);
    const int max_fd = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) : 65536;
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) throw std::runtime_error("cannot open /dev/null");

    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(null_fd);
      throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
      const auto fail = [](const char* message) {
        [[maybe_unused]] const auto written = ::write(2, message, std::strlen(message));
        ::_exit(127);
      };
      if (::dup2(null_fd, 0) < 0 || ::dup2(output_fd, 1) < 0 || ::dup2(output_fd, 2) < 0) {
        ::_exit(127);
      }
      if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
        for (int fd = 3; fd < max_fd; ++fd) ::close(fd);
      }
      if (drop) {
        if (::setgroups(user_.groups.size(), user_.groups.data()) != 0 ||
            ::setgid(user_.gid) != 0 || ::setuid(user_.uid) != 0) {
          fail("postgres_server.hpp: cannot switch to the unprivileged user\n");
        }
      }
      if (server_side && main_thread) {  // after setuid, which clears it
        ::prctl(PR_SET_PDEATHSIG, SIGINT);
        if (::getppid() != parent) ::_exit(0);
      }
      if (::chdir(cwd.c_str()) != 0) fail("postgres_server.hpp: cannot enter the directory\n");
      ::execve(argv[0], argv.data(), envp.data());
      fail("postgres_server.hpp: exec failed\n");
    }
    ::close(null_fd);
    return pid;
  }

  std::unique_ptr<TempDir> dir_;  // the cluster (data/), the socket, postgres.log
  pid_t creator_ = ::getpid();
  std::uint16_t port_;
  pid_t pid_ = -1;    // the postmaster
  pid_t owner_ = -1;  // the process that started it
  User user_;
  bool ever_started_ = false;
  std::atomic<unsigned> databases_{0};
  std::chrono::steady_clock::duration initdb_time_{};
};

}  // namespace portico::test
