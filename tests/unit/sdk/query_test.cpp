// List-query checking shared by every list route: limit bounds and default, the cursor, unknown
// parameters named with a did-you-mean hint (or the known list), repeats, and the filters handed
// to the route in query order.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portico/sdk/query.hpp"

namespace {

using portico::FieldError;
namespace sdk = portico::sdk;

constexpr std::string_view kFilters[] = {"status", "created_since"};

struct Parsed {
  sdk::PageParameters page;
  std::vector<std::pair<std::string, std::string>> filters;
  std::vector<FieldError> errors;
};

Parsed parse(std::string_view query) {
  Parsed out;
  out.page = sdk::read_list_query(query, kFilters, out.errors,
                                  [&](const std::string& name, const std::string& value) {
                                    out.filters.emplace_back(name, value);
                                  });
  return out;
}

// A keyed function good enough to exercise the cursor codec.
sdk::MacFunction keyed(std::string key) {
  return [key](std::string_view message) {
    std::string tag;
    std::size_t h = std::hash<std::string>{}(key + std::string(message));
    for (int round = 0; round < 4; ++round) {
      h = std::hash<std::string>{}(key + std::to_string(h) + std::string(message));
      for (int i = 0; i < 8; ++i) tag.push_back(static_cast<char>((h >> (8 * i)) & 0xFF));
    }
    return tag;
  };
}

TEST(SdkQuery, DefaultsToTwentyWithoutCursor) {
  Parsed p = parse("");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.page.limit, 20);
  EXPECT_FALSE(p.page.cursor);
  EXPECT_TRUE(p.filters.empty());
}

TEST(SdkQuery, ParsesLimitsFromOneToOneHundredOnly) {
  for (int limit : {1, 7, 20, 100}) {
    EXPECT_EQ(sdk::parse_page_limit(std::to_string(limit)), limit);
  }
  for (std::string_view bad : {"0", "101", "-1", "+5", " 5", "5 ", "1e2", "5.0", "", "0100", "x"}) {
    EXPECT_FALSE(sdk::parse_page_limit(bad)) << bad;
  }
  EXPECT_EQ(sdk::parse_page_limit("007"), 7);  // within the width of "100"
  EXPECT_EQ(sdk::parse_page_limit("250", 500), 250);
  EXPECT_FALSE(sdk::parse_page_limit("501", 500));
}

TEST(SdkQuery, ReadsLimitCursorAndHandsFiltersOverInOrder) {
  Parsed p = parse("created_since=2026-01-01T00%3A00%3A00Z&limit=5&cursor=abc&status=");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.page.limit, 5);
  EXPECT_EQ(p.page.cursor, "abc");
  ASSERT_EQ(p.filters.size(), 2u);
  EXPECT_EQ(p.filters[0],
            (std::pair<std::string, std::string>{"created_since", "2026-01-01T00:00:00Z"}));
  EXPECT_EQ(p.filters[1], (std::pair<std::string, std::string>{"status", ""}));
}

TEST(SdkQuery, NamesEveryProblemInQueryOrder) {
  Parsed p = parse("limit=0&stauts=x&cursor=&colour=red&status=a&status=b&limit=3");
  ASSERT_EQ(p.errors.size(), 6u);
  EXPECT_EQ(p.errors[0].field, "limit");
  EXPECT_EQ(p.errors[0].message, "must be a whole number from 1 to 100");
  EXPECT_EQ(p.errors[1].field, "stauts");
  EXPECT_EQ(p.errors[1].message, "is not a known query parameter; did you mean 'status'?");
  EXPECT_EQ(p.errors[2].field, "cursor");
  EXPECT_EQ(p.errors[2].message, "must not be empty; leave it out for the first page");
  EXPECT_EQ(p.errors[3].field, "colour");
  EXPECT_EQ(p.errors[3].message,
            "is not a known query parameter (known: limit, cursor, status, created_since)");
  EXPECT_EQ(p.errors[4].field, "status");
  EXPECT_EQ(p.errors[4].message, "is given more than once");
  EXPECT_EQ(p.errors[5].field, "limit");
  EXPECT_EQ(p.errors[5].message, "is given more than once");
  ASSERT_EQ(p.filters.size(), 1u);  // only the first `status`
  EXPECT_EQ(p.filters[0].second, "a");
}

TEST(SdkQuery, SuggestsOnlyNamesWithinTwoEdits) {
  constexpr std::string_view names[] = {"limit", "cursor", "external_id"};
  EXPECT_EQ(sdk::closest_name("limt", names), "limit");
  EXPECT_EQ(sdk::closest_name("cursr", names), "cursor");
  EXPECT_EQ(sdk::closest_name("externalid", names), "external_id");
  EXPECT_EQ(sdk::closest_name("page", names), "");
  EXPECT_EQ(sdk::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(sdk::edit_distance("", "abc"), 3u);
  EXPECT_EQ(sdk::edit_distance("same", "same"), 0u);
}

TEST(SdkQuery, NormalizesTimestampParameters) {
  std::vector<FieldError> errors;
  EXPECT_EQ(sdk::timestamp_parameter("created_since", "2026-11-26T09:00:00+09:00", errors),
            "2026-11-26T00:00:00.000Z");
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(sdk::timestamp_parameter("created_since", "yesterday", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "created_since");
  EXPECT_NE(errors[0].message.find("RFC 3339"), std::string::npos);
}

TEST(SdkQuery, CursorPositionTellsForeignFromOtherFilters) {
  const sdk::CursorCodec codec(keyed("k"));
  const std::string cursor = codec.encode("2026-01-01T00:00:00.000Z|ord_1", "f1");
  std::vector<FieldError> errors;
  EXPECT_EQ(sdk::cursor_position(codec, cursor, "f1", "status", errors),
            "2026-01-01T00:00:00.000Z|ord_1");
  EXPECT_TRUE(errors.empty());

  EXPECT_FALSE(sdk::cursor_position(codec, cursor, "f2", "status and created_since", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "cursor");
  EXPECT_EQ(errors[0].message,
            "was issued for other filters; keep status and created_since the same while paging");

  const sdk::CursorCodec other(keyed("other key"));
  EXPECT_FALSE(sdk::cursor_position(other, cursor, "f1", "status", errors));
  EXPECT_FALSE(sdk::cursor_position(codec, "not-a-cursor!", "f1", "status", errors));
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[1].message, "is not a cursor this API issued; use next_cursor as given");
  EXPECT_EQ(errors[2].message, errors[1].message);
}

TEST(SdkQuery, InvalidQueryIsA400NamingEveryParameter) {
  portico::ProblemError error =
      sdk::invalid_query({{"limit", "must be a whole number from 1 to 100"}, {"stauts", "bad"}});
  const portico::Problem& problem = error.problem();
  EXPECT_EQ(problem.status, 400);
  EXPECT_EQ(problem.code, "invalid_request");
  EXPECT_EQ(problem.detail,
            "The query is not valid: limit must be a whole number from 1 to 100; stauts bad.");
  ASSERT_EQ(problem.errors.size(), 2u);
  EXPECT_EQ(problem.errors[1].field, "stauts");
}

}  // namespace
