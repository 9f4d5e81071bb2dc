// Starts the real `portico serve` on free loopback ports with the demo config, a scratch database
// and log dir, plus whatever --set overrides a test adds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/portico_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::test {

inline std::string demo_config() {
  return std::string(PORTICO_SOURCE_DIR) + "/configs/portico.toml";
}

// The --set overrides that point a config at scratch space and the test's ports.
inline std::vector<std::string> scratch_overrides(const TempDir& dir, std::uint16_t port,
                                                  std::uint16_t admin_port) {
  return {"--set", "server.listen=127.0.0.1:" + std::to_string(port),
          "--set", "admin.listen=127.0.0.1:" + std::to_string(admin_port),
          "--set", "admin.token=test-admin-token",
          "--set", "storage.path=" + (dir / "portico.db").string(),
          "--set", "logging.dir=" + (dir / "log").string(),
          "--set", "plugins.dir=" + std::string(PORTICO_PLUGIN_DIR)};
}

class Gateway {
 public:
  explicit Gateway(std::vector<std::string> extra_args = {})
      : port(free_port()), admin_port(free_port()) {
    std::vector<std::string> args{"-c", demo_config()};
    for (auto& a : scratch_overrides(dir, port, admin_port)) args.push_back(a);
    for (auto& a : extra_args) args.push_back(a);
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
