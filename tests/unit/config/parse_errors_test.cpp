// Every problem in a config file is reported as the exact "file:line key: message" operators see.
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_helpers.hpp"

namespace portico::config {
namespace {

using test::errors_of;
using test::fake_env;
using Errors = std::vector<std::string>;

TEST(ParseErrors, UnknownKeyWithHint) {
  EXPECT_EQ(errors_of(R"([server]
threads = 2
listne = "0.0.0.0:8080"
)"),
            Errors{"cfg.toml:3 server.listne: unknown key (did you mean 'listen'?)"});
}

TEST(ParseErrors, UnknownKeyWithoutCloseCandidate) {
  EXPECT_EQ(errors_of(R"([server]
threads = 2
foo = 1
)"),
            Errors{"cfg.toml:3 server.foo: unknown key"});
}

TEST(ParseErrors, UnknownSectionWithHint) {
  EXPECT_EQ(errors_of(R"([server]
threads = 2

[admin]
token = "t"

[sever]
listen = "0.0.0.0:80"
)"),
            Errors{"cfg.toml:7 sever: unknown section (did you mean 'server'?)"});
}

TEST(ParseErrors, UnknownSubsection) {
  EXPECT_EQ(errors_of("[server.tl]\ncert = \"a\"\n"),
            Errors{"cfg.toml:1 server.tl: unknown section (did you mean 'tls'?)"});
}

TEST(ParseErrors, UnknownTopLevelKey) {
  EXPECT_EQ(errors_of("verbose = true\n"), Errors{"cfg.toml:1 verbose: unknown key"});
}

TEST(ParseErrors, SectionThatIsNotATable) {
  EXPECT_EQ(errors_of("server = 5\n"),
            Errors{"cfg.toml:1 server: expected a table, got an integer"});
}

TEST(ParseErrors, WrongType) {
  EXPECT_EQ(errors_of(R"([server]
listen = "0.0.0.0:8080"

threads = "four"
)"),
            Errors{"cfg.toml:4 server.threads: expected an integer, got a string"});
}

TEST(ParseErrors, WrongTypeNamesEveryKind) {
  EXPECT_EQ(errors_of("[server]\nthreads = 1.5\n"),
            Errors{"cfg.toml:2 server.threads: expected an integer, got a number"});
  EXPECT_EQ(errors_of("[server]\nlisten = true\n"),
            Errors{"cfg.toml:2 server.listen: expected a string, got a boolean"});
  EXPECT_EQ(errors_of("[server]\nlisten = [\"a\"]\n"),
            Errors{"cfg.toml:2 server.listen: expected a string, got an array"});
  EXPECT_EQ(errors_of("[server]\nlisten = { a = 1 }\n"),
            Errors{"cfg.toml:2 server.listen: expected a string, got a table"});
  EXPECT_EQ(errors_of("[server]\nidle_timeout = 60\n"),
            Errors{"cfg.toml:2 server.idle_timeout: expected a duration such as \"10s\", got an "
                   "integer"});
  EXPECT_EQ(errors_of("[server]\nmax_body = 1.5\n"),
            Errors{"cfg.toml:2 server.max_body: expected a size such as \"1MiB\", got a number"});
  EXPECT_EQ(
      errors_of("[server]\ntrusted_proxies = \"10.0.0.0/8\"\n"),
      Errors{"cfg.toml:2 server.trusted_proxies: expected an array of strings, got a string"});
  EXPECT_EQ(
      errors_of("[server]\ntrusted_proxies = [\"10.0.0.0/8\", 5]\n"),
      Errors{"cfg.toml:2 server.trusted_proxies: expected an array of strings, got an array"});
}

TEST(ParseErrors, BadDuration) {
  EXPECT_EQ(errors_of(R"([server]
listen = "0.0.0.0:8080"
threads = 2
max_body = "1MiB"
header_timeout = "10 sec"
)"),
            Errors{"cfg.toml:5 server.header_timeout: invalid duration \"10 sec\" (use a number "
                   "with ms, s, m, h or d, e.g. \"10s\")"});
}

TEST(ParseErrors, BadSize) {
  EXPECT_EQ(errors_of(R"([server]
listen = "0.0.0.0:8080"
threads = 2
header_timeout = "10s"
idle_timeout = "60s"
max_body = "1 megabyte"
)"),
            Errors{"cfg.toml:6 server.max_body: invalid size \"1 megabyte\" (use bytes or KiB, "
                   "MiB, GiB, e.g. \"1MiB\")"});
  EXPECT_EQ(errors_of("[server]\nmax_body = -1\n"),
            Errors{"cfg.toml:2 server.max_body: invalid size \"-1\" (use bytes or KiB, MiB, GiB, "
                   "e.g. \"1MiB\")"});
}

TEST(ParseErrors, MissingEnvironmentVariable) {
  EXPECT_EQ(errors_of(R"([server]
listen = "0.0.0.0:8080"
threads = 2
header_timeout = "10s"
idle_timeout = "60s"
max_body = "1MiB"

[admin]
token = "${PORTICO_ADMIN_TOKEN}"
)"),
            Errors{"cfg.toml:9 admin.token: environment variable PORTICO_ADMIN_TOKEN is not set"});
}

TEST(ParseErrors, BelowMinimum) {
  EXPECT_EQ(errors_of(R"([server]
threads = 2

[admin]
token = "t"

[logging]
level = "info"
[tiers.premium]
limit = 5
[tiers.basic]
limit = 0
)"),
            Errors{"cfg.toml:12 tiers.basic.limit: must be at least 1, got 0"});
}

TEST(ParseErrors, AboveMaximum) {
  EXPECT_EQ(errors_of("[server]\nthreads = 5000\n"),
            Errors{"cfg.toml:2 server.threads: must be at most 1024, got 5000"});
}

TEST(ParseErrors, DurationAndSizeBoundsReadAsWritten) {
  EXPECT_EQ(errors_of("[tiers.gold]\nlimit = 5\nwindow = \"500ms\"\n"),
            Errors{"cfg.toml:3 tiers.gold.window: must be at least 1s, got 500ms"});
  EXPECT_EQ(errors_of("[server]\nmax_header = 512\n"),
            Errors{"cfg.toml:2 server.max_header: must be at least 1KiB, got 512"});
}

TEST(ParseErrors, RetentionDaysAtLeastOne) {
  EXPECT_EQ(errors_of("[logging]\nretention_days = 0\n"),
            Errors{"cfg.toml:2 logging.retention_days: must be at least 1, got 0"});
}

TEST(ParseErrors, OneOf) {
  EXPECT_EQ(errors_of("[logging]\nlevel = \"loud\"\n"),
            Errors{"cfg.toml:2 logging.level: must be one of trace, debug, info, warn, error, "
                   "critical, off; got \"loud\""});
}

TEST(ParseErrors, RequiredKeysAtTheTableHeader) {
  EXPECT_EQ(errors_of(R"([server]
threads = 2

[admin]
token = "t"


[server.tls]
listen = "0.0.0.0:8443"
)"),
            (Errors{"cfg.toml:8 server.tls.cert: required key is missing",
                    "cfg.toml:8 server.tls.key: required key is missing"}));
}

TEST(ParseErrors, TierLimitIsRequired) {
  EXPECT_EQ(errors_of("[tiers.gold]\nwindow = \"1m\"\n"),
            Errors{"cfg.toml:1 tiers.gold.limit: required key is missing"});
}

TEST(ParseErrors, TierThatIsNotATable) {
  EXPECT_EQ(errors_of("[tiers]\ngold = 5\n"),
            Errors{"cfg.toml:2 tiers.gold: expected a table, got an integer"});
}

TEST(ParseErrors, InvalidListenAddress) {
  EXPECT_EQ(errors_of("[server]\nlisten = \"localhost\"\n"),
            Errors{"cfg.toml:2 server.listen: invalid address \"localhost\" (use host:port, e.g. "
                   "\"0.0.0.0:8080\")"});
  EXPECT_EQ(errors_of("[admin]\nlisten = \"127.0.0.1:99999\"\n"),
            Errors{"cfg.toml:2 admin.listen: invalid address \"127.0.0.1:99999\" (use host:port, "
                   "e.g. \"0.0.0.0:8080\")"});
  EXPECT_EQ(errors_of("[server.tls]\nlisten = \"::1:8443\"\ncert = \"c\"\nkey = \"k\"\n"),
            Errors{"cfg.toml:2 server.tls.listen: invalid address \"::1:8443\" (use host:port, "
                   "e.g. \"0.0.0.0:8080\")"});
}

TEST(ParseErrors, TomlSyntax) {
  EXPECT_EQ(errors_of("[server]\nthreads = 1\n[server]\n"),
            Errors{"cfg.toml:3: Error while parsing table header: cannot redefine existing table "
                   "'server'"});
}

TEST(ParseErrors, TomlSyntaxErrorHasNoKey) {
  try {
    parse("[server]\nthreads = \n", "cfg.toml", {}, fake_env());
    FAIL() << "expected a ConfigException";
  } catch (const ConfigException& error) {
    ASSERT_EQ(error.errors().size(), 1u);
    EXPECT_EQ(error.errors()[0].file, "cfg.toml");
    EXPECT_EQ(error.errors()[0].line, 2);
    EXPECT_EQ(error.errors()[0].key, "");
    EXPECT_EQ(error.errors()[0].to_string().rfind("cfg.toml:2: ", 0), 0u);
  }
}

TEST(ParseErrors, ReportsEveryProblemInLineOrder) {
  auto errors = errors_of(R"([server]
listne = "0.0.0.0:8080"
threads = "four"
max_body = "1 megabyte"

[logging]
level = "loud"

[tiers.basic]
limit = 0

[admin]
token = "${PORTICO_ADMIN_TOKEN}"
)");
  EXPECT_EQ(errors,
            (Errors{
                "cfg.toml:2 server.listne: unknown key (did you mean 'listen'?)",
                "cfg.toml:3 server.threads: expected an integer, got a string",
                "cfg.toml:4 server.max_body: invalid size \"1 megabyte\" (use bytes or KiB, MiB, "
                "GiB, e.g. \"1MiB\")",
                "cfg.toml:7 logging.level: must be one of trace, debug, info, warn, error, "
                "critical, off; got \"loud\"",
                "cfg.toml:10 tiers.basic.limit: must be at least 1, got 0",
                "cfg.toml:13 admin.token: environment variable PORTICO_ADMIN_TOKEN is not set",
            }));
}

TEST(ParseErrors, ExceptionMessageJoinsAllErrors) {
  try {
    parse("[server]\nthreads = -1\n[logging]\nlevel = \"loud\"\n", "cfg.toml", {}, fake_env());
    FAIL() << "expected a ConfigException";
  } catch (const ConfigException& error) {
    EXPECT_STREQ(error.what(),
                 "cfg.toml:2 server.threads: must be at least 0, got -1\n"
                 "cfg.toml:4 logging.level: must be one of trace, debug, info, warn, error, "
                 "critical, off; got \"loud\"");
  }
}

TEST(ParseErrors, FailedSubstitutionIsReportedOnceNotAlsoAsAnInvalidValue) {
  EXPECT_EQ(errors_of("[server]\nlisten = \"${LISTEN}\"\n"),
            Errors{"cfg.toml:2 server.listen: environment variable LISTEN is not set"});
}

}  // namespace
}  // namespace portico::config
