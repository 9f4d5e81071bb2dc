// A gateway whose config file and plugin directory the test owns, so it can edit them and reload:
// the config is written to the scratch dir, plugins are linked from the build (and hello's two
// fixture versions copied) into a scratch plugin directory.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/portico_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::test::reload {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

inline fs::path fixture(const std::string& file) {
  return fs::path(PORTICO_BINARY_DIR) / "test-fixtures" / file;
}

// Replaces `target` the way an installer does: a new file renamed over the old name.
inline void install(const fs::path& source, const fs::path& target) {
  fs::path temporary = target;
  temporary += ".new";
  fs::copy_file(source, temporary, fs::copy_options::overwrite_existing);
  fs::rename(temporary, target);
}

class ReloadGateway {
 public:
  ReloadGateway() : port(free_port()), admin_port(free_port()) {
    fs::create_directories(plugins_dir());
    for (const char* name :
         {"auth_api_key.so", "ratelimit_sliding_window.so", "ratelimit_token_bucket.so",
          "routes_products.so", "routes_webhooks.so", "webhook_delivery.so"}) {
      fs::create_symlink(fs::path(PORTICO_PLUGIN_DIR) / name, plugins_dir() / name);
    }
  }

  fs::path plugins_dir() const { return dir / "plugins"; }
  fs::path config_file() const { return dir / "portico.toml"; }

  // Writes the config: the fixed sections (ports, scratch store and logs, a 5-per-minute basic
  // tier, no per-IP limit in the way) followed by `plugins`, the [plugins.*] tables of this step.
  void write_config(const std::string& plugins, const std::string& extra = "") {
    std::ofstream out(config_file(), std::ios::trunc);
    out << "[server]\nlisten = \"127.0.0.1:" << port << "\"\nthreads = 2\n"
        << "[admin]\nlisten = \"127.0.0.1:" << admin_port << "\"\ntoken = \"test-admin-token\"\n"
        << "[storage]\npath = \"" << (dir / "portico.db").string() << "\"\n"
        << "[logging]\ndir = \"" << (dir / "log").string() << "\"\n"
        // The load test sends far more than the per-IP pre-authentication default from one IP.
        << "[security]\nclient_ip_limit = 100000000\n"
        << "[tiers.basic]\nlimit = 5\nwindow = \"1m\"\n"
        << "[tiers.premium]\nlimit = 1000000\nwindow = \"1m\"\n"
        << extra << "\n[plugins]\ndir = \"" << plugins_dir().string() << "\"\n"
        << plugins;
  }

  void start() {
    process = std::make_unique<PorticoProcess>(
        std::vector<std::string>{"-c", config_file().string()}, dir.path());
    process->wait_ready(port);
  }

  HttpResponse admin(const std::string& method, const std::string& path,
                     const std::string& body = "") {
    return http_request(admin_port, method, "/admin/v1" + path,
                        {{"Authorization", "Bearer test-admin-token"},
                         {"Content-Type", "application/json"}},
                        body);
  }
  // GET of an admin-listener path outside /admin/v1 (/metrics).
  HttpResponse admin_get(const std::string& path) {
    return http_request(admin_port, "GET", path, {{"Authorization", "Bearer test-admin-token"}});
  }
  // POST /admin/v1/reload, expecting success; returns its answer.
  json reload() {
    auto res = admin("POST", "/reload");
    EXPECT_EQ(res.status, 200) << res.body;
    return res.status == 200 ? json::parse(res.body) : json::object();
  }
  std::uint64_t generation() {
    return json::parse(admin("GET", "/plugins").body)["generation"].get<std::uint64_t>();
  }
  // The version GET /v1/hello answers with, else its status and body.
  std::string hello_version() {
    auto res = http_request(port, "GET", "/v1/hello");
    if (res.status != 200) return std::to_string(res.status) + " " + res.body;
    return json::parse(res.body)["version"];
  }
  long rss_kib() {
    std::ifstream status("/proc/" + std::to_string(process->pid()) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
  }

  TempDir dir;
  std::uint16_t port;
  std::uint16_t admin_port;
  std::unique_ptr<PorticoProcess> process;
};

// hello pinned to one of its two fixture versions, both present in the plugin directory.
inline std::string hello_pinned(const std::string& range, const std::string& greeting = "hi") {
  return "[plugins.hello]\nversion = \"" + range + "\"\ngreeting = \"" + greeting + "\"\n";
}

}  // namespace portico::test::reload
