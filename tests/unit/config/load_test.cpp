// load(): a config file on disk, and files that cannot be read.
#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"
#include "tests/unit/config/config_test_helpers.hpp"

namespace portico::config {
namespace {

using test::fake_env;

std::vector<std::string> load_errors(const std::filesystem::path& file) {
  try {
    load(file, {}, fake_env());
  } catch (const ConfigException& error) {
    std::vector<std::string> messages;
    for (const auto& e : error.errors()) messages.push_back(e.to_string());
    return messages;
  }
  return {};
}

TEST(Load, ReadsAFile) {
  portico::test::TempDir dir;
  auto file = dir.write("portico.toml", "[server]\nthreads = 3\n[admin]\ntoken = \"${TOKEN}\"\n");
  Config config = load(file, {"logging.level=warn"}, fake_env({{"TOKEN", "t"}}));
  EXPECT_EQ(config.file, file.string());
  EXPECT_EQ(config.server.threads, 3);
  EXPECT_EQ(config.admin.token, "t");
  EXPECT_EQ(config.logging.level, "warn");
}

TEST(Load, ErrorsNameThePathAsGiven) {
  portico::test::TempDir dir;
  auto file = dir.write("portico.toml", "[server]\nthreads = \"x\"\n");
  EXPECT_EQ(load_errors(file),
            std::vector<std::string>{file.string() +
                                     ":2 server.threads: expected an integer, got a string"});
}

TEST(Load, MissingFile) {
  portico::test::TempDir dir;
  auto file = dir / "missing.toml";
  EXPECT_EQ(
      load_errors(file),
      std::vector<std::string>{file.string() + ": cannot read file (No such file or directory)"});
}

TEST(Load, MissingFileByRelativeName) {
  EXPECT_EQ(load_errors("missing.toml"),
            std::vector<std::string>{"missing.toml: cannot read file (No such file or directory)"});
}

TEST(Load, DirectoryIsNotAFile) {
  portico::test::TempDir dir;
  EXPECT_EQ(load_errors(dir.path()),
            std::vector<std::string>{dir.path().string() + ": cannot read file (Is a directory)"});
}

}  // namespace
}  // namespace portico::config
