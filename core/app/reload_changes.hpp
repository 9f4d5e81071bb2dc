// What a reload changes, in words (reload_changes.cpp): settings only read at start-up that refuse
// a reload, and the lines of ReloadResult::changes for the config sections and the plugins.
#pragma once

#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/pipeline/snapshot.hpp"

namespace portico::app {

// Lines naming each setting that differs between the running config and `next` but is only read
// at start-up ("<file> server.listen: needs a restart to change (running with …)"); empty = none.
std::vector<std::string> restart_only_changes(const config::Config& running,
                                              const config::Config& next);

// The lines of ReloadResult::changes for the config sections (plugins are compared elsewhere).
std::vector<std::string> config_changes(const config::Config& running, const config::Config& next);
// The lines of ReloadResult::changes for the plugins: added, upgraded, reloaded from a new file,
// new settings, removed (a plugin carried over as it was is not named).
std::vector<std::string> plugin_changes(const pipeline::Snapshot& before,
                                        const pipeline::Snapshot& after);

// The plugin of `snapshot` named `name`, or null.
const pipeline::ActivePlugin* find_plugin(const pipeline::Snapshot& snapshot,
                                          const std::string& name);

}  // namespace portico::app
