#include "core/app/plugin_context.hpp"

#include <spdlog/spdlog.h>

namespace portico::app {

PluginContext::PluginContext(std::string name, nlohmann::json settings,
                             std::shared_ptr<Database> db, std::shared_ptr<Outbox> outbox,
                             std::shared_ptr<CredentialDirectory> credentials, WallClock clock)
    : name_(std::move(name)),
      settings_(std::move(settings)),
      db_(std::move(db)),
      outbox_(std::move(outbox)),
      credentials_(std::move(credentials)),
      clock_(std::move(clock)),
      log_(name_) {}

PluginContext::SpdLog::SpdLog(std::string name) : name_(std::move(name)) {}

void PluginContext::SpdLog::write(LogLevel level, std::string_view message) {
  auto lvl = level == LogLevel::debug  ? spdlog::level::debug
             : level == LogLevel::info ? spdlog::level::info
             : level == LogLevel::warn ? spdlog::level::warn
                                       : spdlog::level::err;
  spdlog::log(lvl, "[{}] {}", name_, message);
}

}  // namespace portico::app
