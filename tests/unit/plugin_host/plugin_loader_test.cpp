// Loading one plugin library: every refusal reason with its exact one-line message, the example
// plugin end to end, and the rule that a plugin object keeps its library mapped.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "core/plugin_host/plugin_loader.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/plugin_host/plugin_host_test_support.hpp"

namespace portico::plugin_host {
namespace {

using test::built_plugin;
using test::fixture;

// The line an operator sees for `file`, or "loaded" when nothing was refused.
std::string load_refusal(const std::filesystem::path& file) {
  try {
    load_plugin(file);
  } catch (const PluginLoadError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": " + e.reason());
    return e.reason();
  }
  return "loaded";
}

std::string descriptor_refusal(const std::filesystem::path& file) {
  try {
    read_descriptor(file);
  } catch (const PluginLoadError& e) {
    return e.reason();
  }
  return "read";
}

TEST(PluginLoader, RefusesAMissingFile) {
  portico::test::TempDir dir;
  EXPECT_EQ(load_refusal(dir / "absent.so"), "file not found");
  EXPECT_EQ(descriptor_refusal(dir / "absent.so"), "file not found");
}

TEST(PluginLoader, RefusesAFileWithoutAnElfHeader) {
  portico::test::TempDir dir;
  EXPECT_EQ(load_refusal(dir.write("notes.so", "these are not the bytes you are looking for")),
            "not a shared library (no ELF header)");
  EXPECT_EQ(load_refusal(dir.write("empty.so", "")), "not a shared library (no ELF header)");
  EXPECT_EQ(descriptor_refusal(dir / "notes.so"), "not a shared library (no ELF header)");
}

TEST(PluginLoader, ReportsTheDynamicLoadersReasonWhenDlopenFails) {
  portico::test::TempDir dir;
  auto truncated = dir.write("truncated.so", std::string("\x7f"
                                                         "ELF",
                                                         4) +
                                                 "\x02\x01");
  EXPECT_EQ(load_refusal(truncated), "cannot load: " + truncated.string() + ": file too short");
}

TEST(PluginLoader, BindsEverySymbolAtLoadTime) {
  // RTLD_NOW: a missing symbol refuses the plugin now, not at its first call in production.
  auto file = fixture("unresolved_symbol.so");
  EXPECT_EQ(load_refusal(file), "cannot load: " + file.string() +
                                    ": undefined symbol: portico_fixture_missing_function");
}

TEST(PluginLoader, RefusesALibraryWithoutDescriptor) {
  const std::string reason = "no portico_plugin_descriptor symbol (not a Portico plugin?)";
  EXPECT_EQ(load_refusal(fixture("no_descriptor.so")), reason);
  EXPECT_EQ(descriptor_refusal(fixture("no_descriptor.so")), reason);
}

const std::string kOurs =
    std::to_string(PORTICO_PLUGIN_API_MAJOR) + "." + std::to_string(PORTICO_PLUGIN_API_MINOR);

TEST(PluginLoader, RefusesAnotherMajorApiVersion) {
  const std::string minor = std::to_string(PORTICO_PLUGIN_API_MINOR);
  const std::string reason =
      "plugin API 99." + minor + ", core speaks " + kOurs + " (major versions must match)";
  EXPECT_EQ(load_refusal(fixture("wrong_api.so")), reason);
  EXPECT_EQ(descriptor_refusal(fixture("wrong_api.so")), reason);
}

// An older major is refused with what changed in every major since, and where the guide says it.
TEST(PluginLoader, RefusesAnOlderPluginByNameSayingWhatToChange) {
  const std::string since_2 =
      "3.0: a Reply takes an Answer, which a Response or a SharedResponse converts to; "
      "AuthResult::problem is a shared pointer";
  const std::string reason_2 = "plugin 'api_2_1' is built for plugin API 2.1; this core speaks " +
                               kOurs + ": rebuild it against the " + kOurs + " SDK (" + since_2 +
                               ") — see docs/plugins.md, \"Moving to API 3.0\"";
  EXPECT_EQ(load_refusal(fixture("api_2_1.so")), reason_2);
  EXPECT_EQ(descriptor_refusal(fixture("api_2_1.so")), reason_2);
  const std::string reason_1 =
      "plugin 'api_1_3' is built for plugin API 1.3; this core speaks " + kOurs +
      ": rebuild it against the " + kOurs +
      " SDK (2.0: route handlers run on the worker pool unless Route::run_on says io_thread; a "
      "Host must offer workers(); " + since_2 +
      ") — see docs/plugins.md, \"Moving to API 2.0\" and \"Moving to API 3.0\"";
  EXPECT_EQ(load_refusal(fixture("api_1_3.so")), reason_1);
  EXPECT_EQ(descriptor_refusal(fixture("api_1_3.so")), reason_1);
}

TEST(PluginLoader, RefusesANewerMinorApiVersion) {
  const std::string reason = "plugin API " + std::to_string(PORTICO_PLUGIN_API_MAJOR) +
                             ".99 is newer than the core's " + kOurs;
  EXPECT_EQ(load_refusal(fixture("newer_minor.so")), reason);
  EXPECT_EQ(descriptor_refusal(fixture("newer_minor.so")), reason);
}

// An older minor of this major loads, and the core knows not to call what its interfaces lack:
// authenticate_now and acquire_now came with 3.2.
TEST(PluginLoader, LoadsAnOlderMinorAndKnowsItCannotAnswerNow) {
  LoadedPlugin older = load_plugin(fixture("api_3_1.so"));
  EXPECT_EQ(older.api_version, std::to_string(PORTICO_PLUGIN_API_MAJOR) + ".1");
  EXPECT_FALSE(older.answers_now());
  EXPECT_TRUE(load_plugin(built_plugin("hello.so")).answers_now());
}

TEST(PluginLoader, RefusesAnotherBuildSignature) {
  const std::string reason = "build signature mismatch: plugin 'gcc-0.0-another-build', core '" +
                             std::string(PORTICO_BUILD_SIGNATURE) + "'";
  EXPECT_EQ(load_refusal(fixture("wrong_signature.so")), reason);
  EXPECT_EQ(descriptor_refusal(fixture("wrong_signature.so")), reason);
}

TEST(PluginLoader, RefusesALibraryWithoutFactory) {
  EXPECT_EQ(load_refusal(fixture("no_factory.so")), "no portico_create_plugin symbol");
  // The descriptor alone is fine: version selection can still read it.
  EXPECT_EQ(read_descriptor(fixture("no_factory.so")).name, "no_factory");
}

TEST(PluginLoader, RefusesAFactoryThatThrowsOrReturnsNothing) {
  EXPECT_EQ(load_refusal(fixture("throwing_factory.so")), "factory failed: database unreachable");
  EXPECT_EQ(load_refusal(fixture("null_factory.so")), "factory failed: it returned no plugin");
}

TEST(PluginLoader, RefusesAPluginWhoseInfoContradictsItsDescriptor) {
  EXPECT_EQ(load_refusal(fixture("misnamed.so")),
            "info() names the plugin 'someone_else' but its descriptor says 'misnamed'");
}

TEST(PluginLoader, ReadsTheDescriptorOfHello) {
  PluginDescriptor descriptor = read_descriptor(built_plugin("hello.so"));
  EXPECT_EQ(descriptor.name, "hello");
  EXPECT_EQ(descriptor.version, "1.0.0");
  EXPECT_EQ(descriptor.api_major, kPluginApiMajor);
  EXPECT_EQ(descriptor.api_minor, kPluginApiMinor);
  EXPECT_EQ(descriptor.build_signature, kBuildSignature);
}

TEST(PluginLoader, LoadsHelloAndItsRouteAnswers) {
  LoadedPlugin loaded = load_plugin(built_plugin("hello.so"));
  EXPECT_EQ(loaded.info.name, "hello");
  EXPECT_EQ(loaded.info.version, "1.0.0");
  EXPECT_EQ(loaded.api_version, "3.2");
  EXPECT_EQ(loaded.file, built_plugin("hello.so"));
  ASSERT_EQ(loaded.info.kinds.size(), 1u);
  EXPECT_EQ(loaded.info.kinds[0], PluginKind::routes);
  ASSERT_EQ(loaded.info.schema.fields.size(), 2u);
  EXPECT_EQ(loaded.info.schema.fields[0].key, "greeting");
  EXPECT_EQ(loaded.info.schema.fields[0].default_value, "hello");
  EXPECT_EQ(loaded.info.schema.fields[1].key, "delay");

  test::FakeHost host("hello", {{"greeting", "good morning"}, {"delay", 0}});
  loaded.plugin->init(host);
  ASSERT_NE(loaded.plugin->routes(), nullptr);
  std::vector<Route> routes = loaded.plugin->routes()->routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].path, "/v1/hello");
  EXPECT_EQ(routes[0].scope, "");
  EXPECT_FALSE(routes[0].authenticated);
  EXPECT_EQ(routes[0].run_on, RunOn::io_thread);

  Request request;
  request.method = "GET";
  request.path = request.target = "/v1/hello";
  Response response = routes[0].handler(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(
      nlohmann::json::parse(response.body),
      (nlohmann::json{{"message", "good morning"}, {"plugin", "hello"}, {"version", "1.0.0"}}));

  // The asynchronous route hands its work to the worker pool and answers from there.
  EXPECT_EQ(routes[1].path, "/v1/hello/later");
  ASSERT_TRUE(routes[1].async_handler);
  std::optional<Response> later;
  routes[1].async_handler(request, Reply([&](Answer&& r, std::exception_ptr) { later = std::move(r).take(); },
                                         std::make_shared<CancelState>()));
  EXPECT_FALSE(later) << "answered on the calling thread";
  EXPECT_EQ(host.queued_workers().run_all(), 1u);
  ASSERT_TRUE(later);
  EXPECT_EQ(nlohmann::json::parse(later->body)["message"], "good morning");
}

TEST(PluginLoader, HelloStopsItsWorkWhenTheRequestIsCancelled) {
  LoadedPlugin loaded = load_plugin(built_plugin("hello.so"));
  test::FakeHost host("hello", {{"greeting", "hi"}, {"delay", 60000}});
  loaded.plugin->init(host);
  Route later = loaded.plugin->routes()->routes().at(1);
  Request request;
  auto cancel = std::make_shared<CancelState>();
  bool answered = false;
  later.async_handler(request, Reply([&](Answer&&, std::exception_ptr error) {
                        answered = error == nullptr;
                      },
                                     cancel));
  cancel->cancel();
  const auto started = std::chrono::steady_clock::now();
  host.queued_workers().run_all();  // would take a minute if it ignored the cancellation
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_FALSE(answered);
}

// Fixtures and plugins are built with -fno-gnu-unique: glibc never unloads a library that defines
// an STB_GNU_UNIQUE symbol (std:: inline statics), which would hide a deleter that leaks.
TEST(PluginLoader, ThePluginObjectKeepsItsLibraryLoaded) {
  const auto file = fixture("alpha.so");
  ASSERT_FALSE(test::library_is_loaded(file));

  std::shared_ptr<Plugin> plugin;
  {
    LoadedPlugin loaded = load_plugin(file);
    plugin = std::move(loaded.plugin);
  }  // every handle the loader made is gone; only the plugin's deleter holds the library
  ASSERT_TRUE(test::library_is_loaded(file));
  EXPECT_EQ(plugin->info().name, "alpha");  // its code is still there to run

  // A pointer sharing the plugin's ownership (how the pipeline should keep a plugin's kinds)
  // holds the library as well.
  std::shared_ptr<const Plugin> shared(plugin, plugin.get());
  plugin.reset();
  EXPECT_TRUE(test::library_is_loaded(file));
  EXPECT_EQ(shared->info().priority, 0);

  shared.reset();
  EXPECT_FALSE(test::library_is_loaded(file)) << "the last owner gone, the library is unloaded";
}

TEST(PluginLoader, ReadingADescriptorLeavesNothingLoaded) {
  const auto file = fixture("priority_high.so");
  EXPECT_EQ(read_descriptor(file).name, "priority_high");
  EXPECT_FALSE(test::library_is_loaded(file));
}

}  // namespace
}  // namespace portico::plugin_host
