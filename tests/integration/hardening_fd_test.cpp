// Issue 14: under `ulimit -n 256` with 600 idle connections the accept loop spun at 100 % CPU
// (24k failing accept() calls in 3 s), logged nothing, and even the admin /healthz timed out. Now
// the public listener stops accepting at its connection cap (the kernel's backlog holds the
// rest), says so once per interval, counts it, and the admin listener keeps answering.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/gateway_fixture.hpp"

namespace portico::test {
namespace {

// CPU seconds (user + system) the process has used, from /proc/<pid>/stat.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stol(field);  // utime, stime
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int connect_idle(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::size_t count_lines(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(HardeningFd, OutOfDescriptorsTheGatewayBacksOffAndTheAdminListenerAnswers) {
  // This test process holds the 600 client ends.
  rlimit own{};
  getrlimit(RLIMIT_NOFILE, &own);
  if (own.rlim_max < 2048) GTEST_SKIP() << "needs an open-file hard limit of 2048 or more";
  rlimit raised{own.rlim_max, own.rlim_max};
  setrlimit(RLIMIT_NOFILE, &raised);

  TempDir dir;
  const std::uint16_t port = free_port(), admin_port = free_port();
  std::vector<std::string> args{"-c", demo_config()};
  for (auto& a : scratch_overrides(dir, port, admin_port)) args.push_back(a);
  PorticoProcess gateway(args, dir.path(), {std::string(kOpenFileLimit) + "256"});
  gateway.wait_ready(port);

  std::vector<int> clients;
  for (int i = 0; i < 600; ++i) {
    int fd = connect_idle(port);
    if (fd >= 0) clients.push_back(fd);
  }
  // Connections the gateway did accept are still served: the first one answers a request.
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n";
  ASSERT_EQ(::send(clients.front(), request.data(), request.size(), 0),
            static_cast<ssize_t>(request.size()));
  char reply[512] = {};
  timeval wait{5, 0};
  setsockopt(clients.front(), SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  ASSERT_GT(::recv(clients.front(), reply, sizeof reply - 1, 0), 0);
  EXPECT_EQ(std::string(reply).rfind("HTTP/1.1 200", 0), 0u) << reply;

  const double cpu_before = cpu_seconds(gateway.pid());
  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double cpu_used = cpu_seconds(gateway.pid()) - cpu_before;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("gateway CPU while 600 connections wait: %.0f %% of a core over %.1f s\n",
              100 * cpu_used / elapsed, elapsed);
  EXPECT_LT(cpu_used / elapsed, 0.2);

  const auto asked = std::chrono::steady_clock::now();
  HttpResponse health = http_request(admin_port, "GET", "/healthz");
  const auto admin_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - asked)
                            .count();
  std::printf("admin /healthz answered in %lld ms\n", static_cast<long long>(admin_ms));
  EXPECT_EQ(health.status, 200);
  HttpResponse metrics =
      http_request(admin_port, "GET", "/metrics", {{"Authorization", "Bearer test-admin-token"}});
  EXPECT_NE(metrics.body.find("portico_accept_pauses_total{listener=\"public\""), std::string::npos)
      << metrics.body.substr(0, 500);

  const std::string log = gateway.output();
  EXPECT_NE(log.find("(RLIMIT_NOFILE) is 256"), std::string::npos)
      << "the limit in force is logged";
  EXPECT_LE(count_lines(log, "not accepting until one closes") +
                count_lines(log, "listener cannot accept"),
            3u)
      << "logged once per interval, not per attempt";
  EXPECT_GE(count_lines(log, "public listener at its connection limit"), 1u) << log;

  // Closing the idle connections lets the waiting ones in: a new request is served.
  for (std::size_t i = 1; i < clients.size(); ++i) ::close(clients[i]);
  HttpResponse later = http_request(port, "GET", "/healthz");
  EXPECT_EQ(later.status, 200);
  ::close(clients.front());
}

}  // namespace
}  // namespace portico::test
