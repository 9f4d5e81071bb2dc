#include "core/app/plugin_context.hpp"

#include <spdlog/spdlog.h>

namespace portico::app {

PluginContext::PluginContext(std::string name, nlohmann::json settings,
                             std::shared_ptr<Database> db, std::shared_ptr<Outbox> outbox,
                             std::shared_ptr<CredentialDirectory> credentials, WallClock clock,
                             std::shared_ptr<const sdk::SecretBox> secrets,
                             std::shared_ptr<Executor> workers)
    : name_(std::move(name)),
      settings_(std::move(settings)),
      db_(std::move(db)),
      outbox_(std::move(outbox)),
      credentials_(std::move(credentials)),
      clock_(std::move(clock)),
      secrets_(std::move(secrets)),
      workers_(std::move(workers)),
      log_(name_) {}

namespace {

// A plugin's task and what keeps its code loaded. Members go in reverse order: the task (code of
// the plugin's library) is destroyed before the plugin reference that holds the library.
struct KeptTask {
  std::shared_ptr<Plugin> keep;
  std::function<void()> task;
  void operator()() {
    task();
    task = nullptr;
  }
};

}  // namespace

void PluginContext::PluginWorkers::post(std::function<void()> task) {
  pool->post(KeptTask{owner.lock(), std::move(task)});
}

namespace {

const sdk::SecretBox& require(const std::shared_ptr<const sdk::SecretBox>& secrets) {
  if (!secrets) {
    throw std::runtime_error(
        "no data key is configured (security.data_key or PORTICO_DATA_KEY): secrets cannot be "
        "sealed or opened");
  }
  return *secrets;
}

}  // namespace

std::string PluginContext::seal_secret(std::string_view plaintext) {
  return require(secrets_).seal(plaintext);
}

std::string PluginContext::open_secret(std::string_view sealed) {
  return require(secrets_).open(sealed);
}

bool PluginContext::sealed_with_current_key(std::string_view stored) const {
  return secrets_ && secrets_->sealed_with_current_key(stored);
}

PluginContext::SpdLog::SpdLog(std::string name) : name_(std::move(name)) {}

void PluginContext::SpdLog::write(LogLevel level, std::string_view message) {
  auto lvl = level == LogLevel::debug  ? spdlog::level::debug
             : level == LogLevel::info ? spdlog::level::info
             : level == LogLevel::warn ? spdlog::level::warn
                                       : spdlog::level::err;
  spdlog::log(lvl, "[{}] {}", name_, message);
}

}  // namespace portico::app
