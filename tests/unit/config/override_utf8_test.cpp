// --set values that are not UTF-8 are refused instead of reaching plugin settings as bytes that
// no JSON answer can carry (found by the toml_config fuzz target).
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_helpers.hpp"

namespace portico::config {
namespace {

using test::errors_of;
using test::parse_ok;

TEST(OverrideUtf8, RefusesAValueThatIsNotUtf8) {
  EXPECT_EQ(errors_of("", {"plugins.hello.greeting=caf\xe9"}),
            (std::vector<std::string>{"--set: an override is not valid UTF-8 text"}));
  EXPECT_EQ(errors_of("", {"plugins.hello.greeting=\"h\xa3\""}).size(), 1u);
  EXPECT_EQ(errors_of("", {"plugins.h\xff.greeting=x"}).size(), 1u);
  EXPECT_EQ(errors_of("", {"logging.level=\xed\xa0\x80"}).size(), 1u);  // a surrogate
  EXPECT_EQ(errors_of("", {"logging.level=\xc0\xaf"}).size(), 1u);      // overlong '/'
}

TEST(OverrideUtf8, AcceptsUtf8Text) {
  Config config = parse_ok("", {"plugins.hello.greeting=안녕하세요 😀", "logging.level=debug"});
  ASSERT_EQ(config.plugins.size(), 1u);
  EXPECT_EQ(config.plugins[0].settings.at("greeting"), "안녕하세요 😀");
}

}  // namespace
}  // namespace portico::config
