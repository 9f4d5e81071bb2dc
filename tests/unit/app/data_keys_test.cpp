// The data keys behind Host::seal_secret: the key file made on first start (random, 0600, 64 hex
// digits, kept across starts), its default place next to storage.path, a key from the config,
// previous keys that still open, refusals naming the key, and the restart a change needs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/app/data_keys.hpp"
#include "core/app/reload.hpp"
#include "core/app/runtime.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::app {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

const std::string kKeyA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const std::string kKeyB = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

config::Config parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return config::parse(text, "gw.toml", overrides, [](const std::string&) { return std::nullopt; });
}

std::string raw(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

TEST(DataKeys, TheKeyFileIsCreatedOnceWithMode0600) {
  TempDir dir;
  const fs::path path = dir / "state" / "data.key";  // the directory is made too
  KeyFile first = load_or_create_key_file(path);
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.key.size(), 32u);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const std::string text = test::read_file(path);
  EXPECT_EQ(text.size(), 65u) << text;  // 64 hex digits and a newline
  EXPECT_EQ(raw(text.substr(0, 64)), first.key);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "state"), fs::directory_iterator{}), 1);

  KeyFile again = load_or_create_key_file(path);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.key, first.key);
}

TEST(DataKeys, ConcurrentFirstStartsAgreeOnOneKey) {
  TempDir dir;
  const fs::path path = dir / "data.key";
  std::vector<KeyFile> results(8);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&result, &path] { result = load_or_create_key_file(path); });
  }
  for (auto& t : threads) t.join();
  int created = 0;
  for (const auto& result : results) {
    created += result.created ? 1 : 0;
    EXPECT_EQ(result.key, results.front().key);
  }
  EXPECT_EQ(created, 1);
}

TEST(DataKeys, AnOperatorWrittenKeyFileIsRead) {
  TempDir dir;
  const fs::path path = dir.write("data.key", "  " + kKeyA + "\n\n");
  EXPECT_EQ(load_or_create_key_file(path).key, raw(kKeyA));
  const fs::path bad = dir.write("bad.key", "hunter2\n");
  EXPECT_THROW(load_or_create_key_file(bad), std::invalid_argument);
  EXPECT_THROW(load_or_create_key_file(dir.path()), std::runtime_error);  // a directory
}

TEST(DataKeys, TheDefaultFileSitsNextToTheDatabase) {
  TempDir dir;
  auto cfg = parse("", {"storage.path=\"" + (dir / "db" / "portico.db").string() + "\""});
  EXPECT_EQ(data_key_file(cfg), dir / "db" / "data.key");
  cfg = parse("[storage]\npath = \"portico.db\"\n");
  EXPECT_EQ(data_key_file(cfg), fs::path("data.key"));
  cfg = parse("[security]\ndata_key_file = \"/etc/portico/data.key\"\n");
  EXPECT_EQ(data_key_file(cfg), fs::path("/etc/portico/data.key"));

  cfg = parse("", {"storage.path=\"" + (dir / "db" / "portico.db").string() + "\""});
  auto box = open_data_keys(cfg);
  ASSERT_TRUE(box);
  ASSERT_TRUE(fs::exists(dir / "db" / "data.key"));
  const std::string sealed = box->seal("whsec_x");
  // A second start reads the same file: what the first sealed still opens.
  EXPECT_EQ(open_data_keys(cfg)->open(sealed), "whsec_x");
}

TEST(DataKeys, AConfiguredKeyWinsAndPreviousKeysOpen) {
  TempDir dir;
  const std::string storage = "storage.path=\"" + (dir / "portico.db").string() + "\"";
  auto old_config = parse("[security]\ndata_key = \"" + kKeyA + "\"\n", {storage});
  auto old_box = open_data_keys(old_config);
  EXPECT_EQ(old_box->current_key_id(), sdk::SecretBox::key_id(raw(kKeyA)));
  EXPECT_FALSE(fs::exists(dir / "data.key"));  // no file when the key is given
  const std::string sealed = old_box->seal("whsec_x");

  auto rotated = open_data_keys(
      parse("[security]\ndata_key = \"" + kKeyB + "\"\nprevious_data_keys = [\"" + kKeyA + "\"]\n",
            {storage}));
  EXPECT_EQ(rotated->current_key_id(), sdk::SecretBox::key_id(raw(kKeyB)));
  EXPECT_FALSE(rotated->sealed_with_current_key(sealed));
  EXPECT_EQ(rotated->open(sealed), "whsec_x");
  EXPECT_THROW(
      open_data_keys(parse("[security]\ndata_key = \"" + kKeyB + "\"\n", {storage}))->open(sealed),
      std::runtime_error);
}

TEST(DataKeys, ABadKeyFileStopsTheStartNamingTheKey) {
  TempDir dir;
  const fs::path path = dir.write("data.key", "not a key\n");
  auto cfg = parse("[security]\ndata_key_file = \"" + path.string() + "\"\n");
  try {
    open_data_keys(cfg);
    FAIL() << "a bad key file was accepted";
  } catch (const StartupError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    ASSERT_EQ(e.lines().size(), 1u);
    EXPECT_TRUE(e.lines()[0].starts_with("gw.toml security.data_key_file: " + path.string() +
                                         " is not a data key"))
        << e.lines()[0];
    EXPECT_EQ(e.lines()[0].find("not a key\n"), std::string::npos);
  }
}

TEST(DataKeys, ChangingADataKeyNeedsARestart) {
  auto running = parse("[security]\ndata_key = \"" + kKeyA + "\"\n");
  auto next =
      parse("[security]\ndata_key = \"" + kKeyB + "\"\nprevious_data_keys = [\"" + kKeyA + "\"]\n");
  auto lines = restart_only_changes(running, next);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "gw.toml security.data_key: needs a restart to change (value not shown)");
  EXPECT_EQ(lines[1],
            "gw.toml security.previous_data_keys: needs a restart to change (value not shown)");
  for (const auto& line : lines) EXPECT_EQ(line.find(kKeyA), std::string::npos) << line;
}

}  // namespace
}  // namespace portico::app
