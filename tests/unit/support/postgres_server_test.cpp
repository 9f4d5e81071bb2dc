// tests/support/postgres_server.hpp against the installed PostgreSQL: the shared server hands out
// isolated databases that answer over TCP and the Unix socket; stop() leaves nothing running, and
// start() brings the same cluster back on its port. Skipped when PostgreSQL is not installed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "tests/support/postgres_server.hpp"

namespace {

using portico::test::PostgresServer;
using Clock = std::chrono::steady_clock;

struct Answer {
  bool ok = false;
  std::string output;  // stdout and stderr
};

// psql -c sql against a URI.
Answer psql(const std::string& uri, const std::string& sql) {
  const std::string command = "'" + PostgresServer::bin_dir() + "/psql' '" + uri +
                              "' -X -A -t -q -w -c \"" + sql + "\" 2>&1";
  Answer answer;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return answer;
  char buffer[512];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
    answer.output.append(buffer, n);
  answer.ok = ::pclose(pipe) == 0;
  return answer;
}

bool port_accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

// Processes whose command line mentions text (the postmaster's names its data directory).
int processes_mentioning(const std::string& text) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    const std::string cmdline{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (cmdline.find(text) != std::string::npos) ++count;
  }
  return count;
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

TEST(PostgresServerTest, SharedServerGivesEachCallItsOwnDatabase) {
  if (!PostgresServer::available()) GTEST_SKIP() << "PostgreSQL is not installed (postgresql-15)";
  auto started = Clock::now();
  PostgresServer& server = PostgresServer::shared();
  std::cout << "[   timing ] shared(): initdb " << ms(server.initdb_time()) << " ms, initdb+start "
            << ms(Clock::now() - started) << " ms\n";
  EXPECT_EQ(&server, &PostgresServer::shared());

  started = Clock::now();
  const std::string first = server.create_database();
  std::cout << "[   timing ] create_database() " << ms(Clock::now() - started) << " ms\n";
  const std::string second = server.create_database("other");
  EXPECT_NE(first, second);
  EXPECT_EQ(
      first.rfind("postgresql://postgres@127.0.0.1:" + std::to_string(server.port()) + "/t_", 0),
      0u)
      << first;

  for (const auto& uri : {first, second}) {
    const Answer answer = psql(uri, "select 1");
    EXPECT_TRUE(answer.ok) << uri << ": " << answer.output;
    EXPECT_EQ(answer.output, "1\n") << uri;
  }
  const std::string name = first.substr(first.rfind('/') + 1);
  const Answer over_socket = psql(server.socket_url(name), "select current_database()");
  EXPECT_TRUE(over_socket.ok) << over_socket.output;
  EXPECT_EQ(over_socket.output, name + "\n");

  // Isolated: a table made in one is not in the other.
  ASSERT_TRUE(psql(first, "create table marker (id int)").ok);
  EXPECT_EQ(psql(second, "select count(*) from pg_tables where tablename = 'marker'").output,
            "0\n");
  EXPECT_EQ(psql(first, "select count(*) from pg_tables where tablename = 'marker'").output, "1\n");
}

TEST(PostgresServerTest, StopLeavesNothingRunningAndStartBringsItBack) {
  if (!PostgresServer::available()) GTEST_SKIP() << "PostgreSQL is not installed (postgresql-15)";
  PostgresServer server;
  const auto started = Clock::now();
  server.start();
  std::cout << "[   timing ] own server: initdb " << ms(server.initdb_time())
            << " ms, initdb+start " << ms(Clock::now() - started) << " ms\n";
  const std::string uri = server.create_database("kept");
  ASSERT_TRUE(psql(uri, "create table kept (id int); insert into kept values (7)").ok);
  const std::uint16_t port = server.port();
  const std::string data_dir = server.socket_dir() + "/data";
  const std::string socket = server.socket_dir() + "/.s.PGSQL." + std::to_string(port);
  ASSERT_TRUE(port_accepts(port));
  ASSERT_TRUE(std::filesystem::exists(socket));
  ASSERT_GE(processes_mentioning(data_dir), 1);

  const auto stopping = Clock::now();
  server.stop();
  std::cout << "[   timing ] stop() " << ms(Clock::now() - stopping) << " ms\n";
  EXPECT_FALSE(server.running());
  EXPECT_FALSE(port_accepts(port));
  EXPECT_FALSE(std::filesystem::exists(socket));
  EXPECT_EQ(processes_mentioning(data_dir), 0);
  EXPECT_FALSE(psql(uri, "select 1").ok);
  server.stop();  // idempotent

  const auto restarting = Clock::now();
  server.start();
  std::cout << "[   timing ] restart " << ms(Clock::now() - restarting) << " ms\n";
  EXPECT_EQ(server.port(), port);
  EXPECT_EQ(psql(uri, "select id from kept").output, "7\n");
  server.stop();
  EXPECT_FALSE(port_accepts(port));
}

}  // namespace
