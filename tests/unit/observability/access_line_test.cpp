// The access line (append_access_line, format_access_line, redact_secrets): every CONTRACT field
// in order, hostile text kept one valid JSON line, key-shaped text redacted before the cut, the
// time and the duration as written before, the longest line there can be.
#include "core/observability/access_line.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "core/util/time.hpp"
#include "tests/unit/observability/access_log_support.hpp"

namespace portico::observability {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using access_test::at;
using access_test::kKey;

TEST(AccessLine, HasEveryFieldInOrder) {
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07.089Z");
  r.request_id = "req-42";
  r.partner_id = "ptr_a";
  r.key_id = "key_1";
  r.method = "GET";
  r.route = "/v1/products/{id}";
  r.path = "/v1/products/p1";
  r.status = 200;
  r.duration = 1234567ns;
  r.bytes = 321;
  r.client_ip = "198.51.100.7";
  r.user_agent = "acme-sync/2.1";
  std::string line = format_access_line(r);
  EXPECT_EQ(line,
            R"({"time":"2026-03-04T05:06:07.089Z","request_id":"req-42","partner_id":"ptr_a",)"
            R"("key_id":"key_1","method":"GET","route":"/v1/products/{id}",)"
            R"("path":"/v1/products/p1","status":200,"duration_ms":1.235,"bytes":321,)"
            R"("client_ip":"198.51.100.7","user_agent":"acme-sync/2.1"})");
}

// A thread's lines keep the last partner, key, method, route and address as JSON and copy them
// while they repeat: every line still shows its own values — repeated, changed, absent, escaped,
// and back — whatever the line before it held.
TEST(AccessLine, RepeatedFieldsShowEachLinesOwnValues) {
  struct Fields {
    std::optional<std::string> partner, key, route;
    std::string method, ip;
  };
  const std::vector<Fields> lines = {
      {"ptr_a", "key_1", "/v1/products/{id}", "GET", "198.51.100.7"},
      {"ptr_a", "key_1", "/v1/products/{id}", "GET", "198.51.100.7"},
      {"ptr_b", "key_1", "/v1/orders", "POST", "198.51.100.8"},
      {std::nullopt, std::nullopt, std::nullopt, "GET", "198.51.100.8"},
      {"", "", "", "", ""},
      {"ptr_\"q\"\n", "key_\\", "/v1/{id}", "G\tT", "::1"},
      {"ptr_a", std::nullopt, "/v1/products/{id}", "GET", "198.51.100.7"},
      {"ptr_a", "key_1", "/v1/products/{id}", "GET", "198.51.100.7"},
  };
  for (int round = 0; round < 2; ++round) {
    for (const auto& f : lines) {
      AccessRecord r;
      r.time = at("2026-03-04T05:06:07Z");
      r.request_id = "req-1";
      if (f.partner) r.partner_id = *f.partner;
      if (f.key) r.key_id = *f.key;
      if (f.route) r.route = *f.route;
      r.method = f.method;
      r.client_ip = f.ip;
      r.path = "/x";
      auto j = json::parse(format_access_line(r));
      auto expect = [&](const char* name, const std::optional<std::string>& value) {
        if (value) {
          EXPECT_EQ(j[name], *value) << name;
        } else {
          EXPECT_TRUE(j[name].is_null()) << name;
        }
      };
      expect("partner_id", f.partner);
      expect("key_id", f.key);
      expect("route", f.route);
      EXPECT_EQ(j["method"], f.method);
      EXPECT_EQ(j["client_ip"], f.ip);
    }
  }
}

TEST(AccessLine, UnauthenticatedUnmatchedRequestHasNulls) {
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07Z");
  r.request_id = "req-1";
  r.method = "GET";
  r.path = "/nowhere";
  r.status = 404;
  auto j = json::parse(format_access_line(r));
  EXPECT_TRUE(j["partner_id"].is_null());
  EXPECT_TRUE(j["key_id"].is_null());
  EXPECT_TRUE(j["route"].is_null());
  EXPECT_EQ(j["user_agent"], "");
}

TEST(AccessLine, HostileTextStaysOneValidJsonLine) {
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07Z");
  r.request_id = "req-1";
  r.method = "GET";
  r.path = "/a\"b\\c\n{}";
  const std::string agent("bad\xff\xfe utf8 \x01 and 한국어", 24);  // cut inside a character
  r.user_agent = agent;
  std::string line = format_access_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = json::parse(line);
  EXPECT_EQ(j["path"], "/a\"b\\c\n{}");
  EXPECT_NE(j["user_agent"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos);
}

TEST(AccessLine, KeyShapedTextIsRedacted) {
  EXPECT_EQ(redact_secrets(std::string("/v1/x/") + kKey + "/y"), "/v1/x/pk_live_[redacted]/y");
  EXPECT_EQ(redact_secrets("curl whsec_abc+/= pk_test_AbC"),
            "curl whsec_[redacted] pk_test_[redacted]");
  EXPECT_EQ(redact_secrets("nothing here"), "nothing here");
}

// What redaction means, written plainly: the earliest of the three prefixes, then its key's body
// replaced, and on from there.
std::string redacted_plainly(std::string_view text) {
  struct Kind {
    std::string_view prefix;
    bool base64;
  };
  const Kind kinds[] = {{"pk_live_", false}, {"pk_test_", false}, {"whsec_", true}};
  auto body = [](char c, bool base64) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           (base64 && (c == '+' || c == '/' || c == '='));
  };
  std::string out;
  std::size_t i = 0;
  for (;;) {
    std::size_t at = std::string_view::npos;
    const Kind* kind = nullptr;
    for (const Kind& k : kinds) {
      const std::size_t found = text.find(k.prefix, i);
      if (found < at) at = found, kind = &k;
    }
    if (!kind) break;
    out.append(text.substr(i, at - i)).append(kind->prefix).append("[redacted]");
    i = at + kind->prefix.size();
    while (i < text.size() && body(text[i], kind->base64)) ++i;
  }
  return out.append(text.substr(i));
}

// Whatever the text, redaction finds each prefix where it starts: near misses, prefixes inside
// one another's bodies, back to back, at the ends.
TEST(AccessLine, RedactionFindsEveryKeyShapedTextWhereverItStarts) {
  const char* pieces[] = {"p",        "w",     "pk",     "pk_", "pk_live", "pk_live_",
                          "pk_test_", "whsec", "whsec_", "ab9", "+/=",     "_",
                          " ",        "/",     "pp",     "ww",  "\xff"};
  std::mt19937 random(7);
  for (int n = 0; n < 20000; ++n) {
    std::string text;
    const int count = static_cast<int>(random() % 12);
    for (int k = 0; k < count; ++k) text += pieces[random() % std::size(pieces)];
    ASSERT_EQ(redact_secrets(text), redacted_plainly(text)) << text;
  }
}

// The request thread's path appends to a buffer it keeps; the bytes are format_access_line's.
TEST(AccessLine, AppendMatchesFormatAndKeepsWhatIsThere) {
  AccessRecord full;
  full.time = at("2026-03-04T05:06:07.089Z");
  full.request_id = "req-42";
  full.partner_id = "ptr_a";
  full.key_id = "key_1";
  full.method = "GET";
  full.route = "/v1/products/{id}";
  full.path = std::string_view("/v1/x/pk_live_abc/y\x01\x7f");
  full.status = 503;
  full.duration = 62500ns;
  full.bytes = 18446744073709551615u;
  full.client_ip = "2001:db8::7";
  const std::string agent = std::string("bad\xff utf8 \"q\" \\ whsec_abc+/= ") + kKey;
  full.user_agent = agent;
  AccessRecord bare;
  bare.time = at("1969-12-31T23:59:59.999Z");
  bare.method = "BREW";
  bare.path = "/";
  bare.status = -1;
  bare.duration = -1500000ns;

  std::string out = "kept|";
  append_access_line(out, full);
  append_access_line(out, bare);
  append_access_line(out, full);
  EXPECT_EQ(out, "kept|" + format_access_line(full) + format_access_line(bare) +
                     format_access_line(full));
  EXPECT_EQ(format_access_line(full),
            R"({"time":"2026-03-04T05:06:07.089Z","request_id":"req-42","partner_id":"ptr_a",)"
            R"("key_id":"key_1","method":"GET","route":"/v1/products/{id}",)"
            R"("path":"/v1/x/pk_live_[redacted]/y\u0001\u007f","status":503,"duration_ms":0.062,)"
            R"("bytes":18446744073709551615,"client_ip":"2001:db8::7",)"
            R"("user_agent":"bad\ufffd utf8 \"q\" \\ whsec_[redacted] pk_live_[redacted]"})");
  EXPECT_EQ(format_access_line(bare),
            R"({"time":"1969-12-31T23:59:59.999Z","request_id":"","partner_id":null,)"
            R"("key_id":null,"method":"BREW","route":null,"path":"/","status":-1,)"
            R"("duration_ms":-1.500,"bytes":0,"client_ip":"","user_agent":""})");
}

// The line is written into a buffer made for the longest line there can be: every field at its
// bound, every byte escaped to six, keys that redaction makes longer, the longest duration.
TEST(AccessLine, TheLongestLineThereCanBeIsWrittenWhole) {
  const std::string control(4096, '\x01');  // \u0001 each
  const std::string invalid(4096, '\xff');  // \ufffd each
  std::string keys;
  while (keys.size() < 4096) keys += "pk_live_";  // each "pk_live_[redacted]"
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07.089Z");
  r.request_id = control;
  r.partner_id = invalid;
  r.key_id = control;
  r.method = control;
  r.route = invalid;
  r.path = keys;
  r.status = std::numeric_limits<int>::min();
  r.duration = std::chrono::nanoseconds(std::numeric_limits<std::int64_t>::min());
  r.bytes = std::numeric_limits<std::size_t>::max();
  r.client_ip = control;
  r.user_agent = keys;
  for (int round = 0; round < 2; ++round) {  // the thread's buffer, made and then reused
    const std::string line = format_access_line(r);
    const auto j = json::parse(line);
    EXPECT_EQ(j["request_id"], std::string(256, '\x01'));
    EXPECT_EQ(j["partner_id"].get<std::string>().size(), 256u * 3);  // U+FFFD is 3 bytes
    EXPECT_EQ(j["method"], std::string(32, '\x01'));
    EXPECT_EQ(j["client_ip"], std::string(64, '\x01'));
    EXPECT_EQ(j["path"], redact_secrets(keys).substr(0, 2048));
    EXPECT_EQ(j["user_agent"], redact_secrets(keys).substr(0, 512));
    EXPECT_EQ(j["status"], std::numeric_limits<int>::min());
    EXPECT_EQ(j["bytes"], std::numeric_limits<std::size_t>::max());
    EXPECT_EQ(line.find("\"duration_ms\":-9223372036854.775,"), line.find("\"duration_ms\""));
    EXPECT_GT(line.size(), 6u * (256 * 3 + 32 + 2048 + 64));
  }
}

// The time is converted once per second per thread; whatever the order of the seconds, it reads
// as util::format_rfc3339 writes it.
TEST(AccessLine, TimeIsRfc3339WithMillisecondsInUtc) {
  AccessRecord r;
  r.method = "GET";
  r.path = "/";
  for (const char* text :
       {"2026-03-04T05:06:07.000Z", "2026-03-04T05:06:07.999Z", "2026-03-04T05:06:08.001Z",
        "2026-03-04T05:06:07.500Z", "2028-02-29T23:59:59.999Z", "2028-03-01T00:00:00.000Z",
        "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.001Z", "2262-04-11T23:47:16.000Z"}) {
    for (auto offset : {0ns, 999'999ns}) {  // sub-millisecond digits are cut, not rounded
      r.time = at(text) + std::chrono::duration_cast<std::chrono::system_clock::duration>(offset);
      auto j = json::parse(format_access_line(r));
      EXPECT_EQ(j["time"], util::format_rfc3339(r.time, true)) << text;
      EXPECT_EQ(j["time"], text);
    }
  }
}

// Redaction first, then the cut: a key across the limit is still redacted, and a key beyond it
// cannot make the field longer.
TEST(AccessLine, RedactionHappensBeforeTheLengthLimit) {
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07Z");
  r.method = "GET";
  for (std::size_t lead : {0u, 2030u, 2040u, 2047u, 2048u, 2100u}) {
    std::string path = std::string(lead, 'a') + kKey + "/tail" + std::string(3000, 'b') + kKey;
    std::string agent = std::string(lead / 4, 'u') + kKey + " " + kKey + std::string(600, 'v');
    r.path = path;
    r.user_agent = agent;
    auto j = json::parse(format_access_line(r));
    EXPECT_EQ(j["path"], redact_secrets(path).substr(0, 2048)) << lead;
    EXPECT_EQ(j["user_agent"], redact_secrets(agent).substr(0, 512)) << lead;
  }
}

TEST(AccessLine, DurationHasThreeDecimalsAsBefore) {
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07Z");
  r.method = "GET";
  r.path = "/";
  for (auto ns : {0ns, 1ns, 499ns, 500ns, 62'500ns, 187'500ns, 1'234'567ns, 999'999'999'999ns}) {
    r.duration = ns;
    std::string line = format_access_line(r);
    auto at_field = line.find("\"duration_ms\":") + 14;
    std::string expected =
        fmt::format("{:.3f}", static_cast<double>(ns.count()) / 1e6) + ",\"bytes\":";
    EXPECT_EQ(line.substr(at_field, expected.size()), expected) << ns.count();
  }
}

// The digits are worked out in integers below 2^50 ns and by fmt past it: both read as fmt's
// rounding of the double, ties (a remainder of 500 ns) and the edges included.
TEST(AccessLine, DurationMatchesFmtAcrossTheRange) {
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07Z");
  r.method = "GET";
  r.path = "/";
  std::mt19937_64 random(20261203);
  std::vector<std::int64_t> values = {(std::int64_t{1} << 50) - 1, std::int64_t{1} << 50,
                                      (std::int64_t{1} << 50) + 500, -499, -500, -501,
                                      std::numeric_limits<std::int64_t>::max(),
                                      std::numeric_limits<std::int64_t>::min()};
  for (int i = 0; i < 100000; ++i) {
    const int bits = static_cast<int>(random() % 62) + 1;
    auto value = static_cast<std::int64_t>(random() >> (64 - bits));
    if (i % 4 == 0) value = value / 1000 * 1000 + 500;  // a tie
    if (i % 7 == 0) value = -value;
    values.push_back(value);
  }
  for (std::int64_t ns : values) {
    r.duration = std::chrono::nanoseconds(ns);
    std::string line = format_access_line(r);
    auto at_field = line.find("\"duration_ms\":") + 14;
    std::string expected = fmt::format("{:.3f}", static_cast<double>(ns) / 1e6) + ",\"bytes\":";
    ASSERT_EQ(line.substr(at_field, expected.size()), expected) << ns;
  }
}

// Plain text is taken eight bytes at a time: every character that needs escaping is still
// escaped wherever it sits in a chunk, and a string's bytes read as the one-at-a-time rule.
TEST(AccessLine, EscapesAnywhereInALongString) {
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07Z");
  r.method = "GET";
  for (unsigned c = 0; c < 256; ++c) {
    for (std::size_t at_index = 0; at_index < 19; ++at_index) {
      std::string agent(19, 'a');
      agent[at_index] = static_cast<char>(c);
      r.path = "/";
      r.user_agent = agent;
      auto j = json::parse(format_access_line(r));
      std::string got = j["user_agent"];
      if (c < 0x80) {
        EXPECT_EQ(got, agent) << c << " at " << at_index;
      } else {  // a lone byte of 0x80 and up is not UTF-8
        EXPECT_EQ(got, std::string(at_index, 'a') + "\xEF\xBF\xBD" + std::string(18 - at_index, 'a'))
            << c << " at " << at_index;
      }
    }
  }
}

}  // namespace
}  // namespace portico::observability
