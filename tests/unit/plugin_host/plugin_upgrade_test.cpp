// Loading a plugin file again while the process still has it loaded: dlopen alone would hand back
// the old library for the same path, so a rebuilt or replaced file must still run its new code —
// and each old library must go away with its last object.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "core/plugin_host/plugin_loader.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/plugin_host/plugin_host_test_support.hpp"

namespace portico::plugin_host {
namespace {

namespace fs = std::filesystem;
using test::fixture;

// What GET /v1/hello of a loaded hello answers.
nlohmann::json hello_answer(LoadedPlugin& loaded) {
  test::FakeHost host("hello", {{"greeting", "hi"}, {"delay", 0}});
  loaded.plugin->init(host);
  Request request;
  request.method = "GET";
  request.path = request.target = "/v1/hello";
  return nlohmann::json::parse(loaded.plugin->routes()->routes().at(0).handler(request).body);
}

// Replaces `target` the way an installer does: a new file renamed over the old name.
void install(const fs::path& source, const fs::path& target) {
  fs::path temporary = target;
  temporary += ".new";
  fs::copy_file(source, temporary, fs::copy_options::overwrite_existing);
  fs::rename(temporary, target);
}

TEST(PluginUpgrade, AFileReplacedUnderTheSamePathRunsItsNewCode) {
  portico::test::TempDir dir;
  const fs::path file = dir / "hello.so";
  install(fixture("hello-1.0.0.so"), file);
  LoadedPlugin first = load_plugin(file);
  ASSERT_EQ(first.info.version, "1.0.0");

  install(fixture("hello-1.1.0.so"), file);
  EXPECT_NE(identify(file), first.identity);
  EXPECT_EQ(read_descriptor(file).version, "1.1.0") << "the descriptor of the file as it is now";
  LoadedPlugin second = load_plugin(file);
  EXPECT_EQ(second.info.version, "1.1.0");
  EXPECT_EQ(second.file, file) << "listed under the operator's path, not the private copy";
  EXPECT_EQ(hello_answer(second)["version"], "1.1.0");
  EXPECT_EQ(hello_answer(first)["version"], "1.0.0") << "the old instance keeps its own code";
}

TEST(PluginUpgrade, AnUnchangedFileKeepsItsIdentity) {
  const fs::path file = fixture("alpha.so");
  LoadedPlugin loaded = load_plugin(file);
  EXPECT_EQ(identify(file), loaded.identity);
  EXPECT_EQ(loaded.api_minor, kPluginApiMinor);
}

TEST(PluginUpgrade, EveryGenerationIsUnloadedWithItsLastObject) {
  portico::test::TempDir dir;
  const fs::path file = dir / "alpha.so";
  fs::copy_file(fixture("alpha.so"), file);
  {
    LoadedPlugin first = load_plugin(file);
    LoadedPlugin second = load_plugin(file);  // from a private copy: the path is taken
    LoadedPlugin third = load_plugin(file);
    EXPECT_NE(first.plugin.get(), second.plugin.get());
    EXPECT_TRUE(test::library_is_loaded(file));
    first = LoadedPlugin{};
    EXPECT_FALSE(test::library_is_loaded(file)) << "the copies are not the file";
    EXPECT_EQ(third.plugin->info().name, "alpha");
  }
  // Loading again and again must not accumulate libraries or descriptors.
  const auto open_descriptors = [] {
    return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{});
  };
  LoadedPlugin held = load_plugin(file);
  const auto before = open_descriptors();
  for (int i = 0; i < 50; ++i) load_plugin(file);
  EXPECT_EQ(open_descriptors(), before) << "each private copy is closed with its library";
}

}  // namespace
}  // namespace portico::plugin_host
