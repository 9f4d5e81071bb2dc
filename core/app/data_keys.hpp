// The data keys behind Host::seal_secret / open_secret (plugin API 1.3): the current key from
// security.data_key, else from a key file (security.data_key_file; by default data.key next to
// storage.path) that is created with a fresh random key, mode 0600, on the first start; plus
// security.previous_data_keys, which only open. See docs/operators.md "Secrets at rest".
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/config/config.hpp"
#include "portico/sdk/secret_box.hpp"

namespace portico::app {

// Where the data key file is: security.data_key_file, else data.key in storage.path's directory.
std::filesystem::path data_key_file(const config::Config& config);

struct KeyFile {
  std::string key;       // the raw 32 bytes
  bool created = false;  // this call made the file
};

// Reads the key in `path`, creating the file first when it is missing: a random key as 64 hex
// digits, mode 0600, written to a temporary file and linked into place, so it is never seen half
// written and never replaces a file another process made meanwhile. Throws std::invalid_argument
// when the file holds no data key, std::runtime_error when it cannot be read or created.
KeyFile load_or_create_key_file(const std::filesystem::path& path);

// The config's SecretBox. Throws StartupError naming the key: exit 2 when a key file holds no
// data key, 1 when it cannot be read or created. Logs once when it generated the key file.
std::shared_ptr<const sdk::SecretBox> open_data_keys(const config::Config& config);

}  // namespace portico::app
