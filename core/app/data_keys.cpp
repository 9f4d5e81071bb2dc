#include "core/app/data_keys.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "core/app/runtime.hpp"
#include "core/config/data_key.hpp"

namespace portico::app {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxKeyFileSize = 4096;

std::runtime_error io_error(const fs::path& path, const std::string& what) {
  return std::runtime_error(path.string() + ": " + what + " (" + std::strerror(errno) + ")");
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw io_error(path, "cannot write");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The file's key; nullopt when the file does not exist.
std::optional<std::string> read_key_file(const fs::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw io_error(path, "cannot read the data key file");
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) == 0 && (info.st_mode & 077) != 0) {
    spdlog::warn("{}: the data key file can be read by other users (mode {:o}); chmod 600 it",
                 path.string(), info.st_mode & 0777);
  }
  std::string text;
  char buffer[1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw io_error(path, "cannot read the data key file");
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxKeyFileSize) break;
  }
  std::optional<std::string> key = config::parse_data_key(text);
  sodium_memzero(text.data(), text.size());
  if (!key) throw std::invalid_argument(path.string() + " " + std::string(config::kDataKeyFormat));
  return key;
}

// Writes a fresh key to a temporary file and links it in at `path`: true when this call made
// the file, false when it existed by then.
bool create_key_file(const fs::path& path) {
  std::string key(config::kDataKeyBytes, '\0');
  randombytes_buf(key.data(), key.size());
  std::string hex(2 * key.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(key.data()),
                 key.size());
  sodium_memzero(key.data(), key.size());
  hex.back() = '\n';

  unsigned char nonce[8];
  randombytes_buf(nonce, sizeof nonce);
  char nonce_hex[2 * sizeof nonce + 1];
  sodium_bin2hex(nonce_hex, sizeof nonce_hex, nonce, sizeof nonce);
  const fs::path temporary = path.string() + ".tmp-" + nonce_hex;
  {
    FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) throw io_error(temporary, "cannot create the data key file");
    try {
      write_all(fd.get(), hex, temporary);
      if (::fsync(fd.get()) != 0) throw io_error(temporary, "cannot sync");
    } catch (...) {
      sodium_memzero(hex.data(), hex.size());
      ::unlink(temporary.c_str());
      throw;
    }
  }
  sodium_memzero(hex.data(), hex.size());
  const int linked = ::link(temporary.c_str(), path.c_str());
  const int link_error = errno;
  ::unlink(temporary.c_str());
  if (linked != 0) {
    if (link_error == EEXIST) return false;
    errno = link_error;
    throw io_error(path, "cannot create the data key file");
  }
  const fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  return true;
}

}  // namespace

fs::path data_key_file(const config::Config& config) {
  if (!config.security.data_key_file.empty()) return config.security.data_key_file;
  return fs::path(config.storage.path).parent_path() / "data.key";
}

KeyFile load_or_create_key_file(const fs::path& path) {
  if (auto key = read_key_file(path)) return {std::move(*key), false};
  if (path.has_parent_path()) {
    std::error_code ignored;  // a missing directory shows up as the open's error
    fs::create_directories(path.parent_path(), ignored);
  }
  const bool created = create_key_file(path);
  auto key = read_key_file(path);
  if (!key) {
    errno = ENOENT;
    throw io_error(path, "the data key file vanished");
  }
  return {std::move(*key), created};
}

std::shared_ptr<const sdk::SecretBox> open_data_keys(const config::Config& config) {
  const auto& security = config.security;
  std::string current;
  if (!security.data_key.empty()) {
    auto key = config::parse_data_key(security.data_key);  // the config checked it
    if (!key) {
      throw StartupError(
          {config.file + " security.data_key: " + std::string(config::kDataKeyFormat)}, 2);
    }
    current = std::move(*key);
  } else {
    const fs::path path = data_key_file(config);
    try {
      KeyFile file = load_or_create_key_file(path);
      if (file.created) {
        spdlog::warn(
            "generated a data key at {}: webhook signing secrets are encrypted under it. Back it "
            "up with the database; without it they cannot be read",
            path.string());
      }
      current = std::move(file.key);
    } catch (const std::invalid_argument& e) {
      throw StartupError({config.file + " security.data_key_file: " + e.what()}, 2);
    } catch (const std::exception& e) {
      throw StartupError({config.file + " security.data_key_file: " + e.what()}, 1);
    }
  }
  std::vector<std::string> previous;
  for (std::size_t i = 0; i < security.previous_data_keys.size(); ++i) {
    auto key = config::parse_data_key(security.previous_data_keys[i]);
    if (!key) {
      throw StartupError({config.file + " security.previous_data_keys[" + std::to_string(i) +
                          "]: " + std::string(config::kDataKeyFormat)},
                         2);
    }
    previous.push_back(std::move(*key));
  }
  return std::make_shared<const sdk::SecretBox>(std::move(current), std::move(previous));
}

}  // namespace portico::app
