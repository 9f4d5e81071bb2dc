// Starts the real `portico serve` on free loopback ports with the demo config, a scratch database
// and log dir, plus whatever --set overrides a test adds.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/portico_process.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::test {

inline std::string demo_config() {
  return std::string(PORTICO_SOURCE_DIR) + "/configs/portico.toml";
}

inline bool testing_on_postgres() {
  const char* store = std::getenv("PORTICO_TEST_STORE");
  return store && std::string_view(store) == "postgres";
}

// The PostgreSQL database of each scratch directory's gateway (testing_on_postgres()).
inline std::map<std::filesystem::path, std::string>& postgres_databases() {
  static std::map<std::filesystem::path, std::string> databases;
  return databases;
}

// With PORTICO_TEST_STORE=postgres (ctest's integration_on_postgres): the gateway's database is
// a new one in the PostgreSQL server the test binary starts, through store_postgres — one per
// storage.path in `args` (the last one given wins, as in portico), so gateways that share a file
// on SQLite share a database here, and a restarted gateway finds its data again.
inline std::vector<std::string> store_overrides(const std::vector<std::string>& args) {
  if (!testing_on_postgres()) return {};
  std::filesystem::path path;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--set" && args[i + 1].rfind("storage.path=", 0) == 0) {
      path = args[i + 1].substr(13);
    }
  }
  auto [it, created] = postgres_databases().try_emplace(path.parent_path());
  if (created) it->second = PostgresServer::shared().create_database("it");
  return {"--set", "storage.backend=\"postgres\"",
          "--set", "storage.url=\"" + it->second + "\"",
          "--set", "plugins.store_postgres.pool_size=8"};
}

// The --set overrides that point a config at scratch space and the test's ports.
inline std::vector<std::string> scratch_overrides(const TempDir& dir, std::uint16_t port,
                                                  std::uint16_t admin_port) {
  std::vector<std::string> args;
  for (std::string arg : std::vector<std::string>{
           "--set", "server.listen=127.0.0.1:" + std::to_string(port),
          "--set", "admin.listen=127.0.0.1:" + std::to_string(admin_port),
          "--set", "admin.token=test-admin-token",
          "--set", "storage.path=" + (dir / "portico.db").string(),
          "--set", "logging.dir=" + (dir / "log").string(),
          "--set", "plugins.dir=" + std::string(PORTICO_PLUGIN_DIR)}) {
    args.push_back(std::move(arg));
  }
  for (std::string& arg : store_overrides(args)) args.push_back(std::move(arg));
  return args;
}

class Gateway {
 public:
  explicit Gateway(std::vector<std::string> extra_args = {})
      : port(free_port()), admin_port(free_port()) {
    std::vector<std::string> args{"-c", demo_config()};
    for (auto& a : scratch_overrides(dir, port, admin_port)) args.push_back(a);
    for (auto& a : extra_args) args.push_back(a);
    for (auto& a : store_overrides(args)) args.push_back(a);
    args_ = args;
    process = std::make_unique<PorticoProcess>(args, dir.path());
    process->wait_ready(port);
  }

  // Starts the gateway again with the same arguments, ports and database (after a stop or a
  // kill; a process still running is killed first).
  void restart() {
    process.reset();
    process = std::make_unique<PorticoProcess>(args_, dir.path());
    process->wait_ready(port);
  }

  HttpResponse get(const std::string& target,
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return http_request(port, "GET", target, headers);
  }

  TempDir dir;
  std::uint16_t port;
  std::uint16_t admin_port;
  std::unique_ptr<PorticoProcess> process;

 private:
  std::vector<std::string> args_;
};

}  // namespace portico::test
