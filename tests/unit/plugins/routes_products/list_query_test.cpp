// GET /v1/products query checking: defaults, limit bounds, filters, and the parameter named in
// every error (unknown ones with a did-you-mean hint).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugins/routes_products/list_query.hpp"

namespace {

using portico::FieldError;
using portico::routes_products::ListQuery;
using portico::routes_products::parse_list_query;

std::vector<FieldError> errors_of(const std::string& query) {
  std::vector<FieldError> errors;
  parse_list_query(query, errors);
  return errors;
}

TEST(ListQuery, DefaultsToTwentyWithNoFilters) {
  std::vector<FieldError> errors;
  ListQuery q = parse_list_query("", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(q.limit, 20);
  EXPECT_FALSE(q.cursor || q.category || q.status || q.q || q.updated_since);
}

TEST(ListQuery, AcceptsLimitsFromOneToOneHundred) {
  for (int limit : {1, 2, 20, 99, 100}) {
    std::vector<FieldError> errors;
    ListQuery q = parse_list_query("limit=" + std::to_string(limit), errors);
    EXPECT_TRUE(errors.empty()) << limit;
    EXPECT_EQ(q.limit, limit);
  }
}

TEST(ListQuery, RefusesEveryOtherLimitNamingIt) {
  for (std::string bad : {"0", "101", "1000", "-1", "abc", "5.0", "", "1e2", "%20%35", "0100"}) {
    auto errors = errors_of("limit=" + bad);
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].field, "limit");
    EXPECT_EQ(errors[0].message, "must be a whole number from 1 to 100");
  }
}

TEST(ListQuery, ReadsTheFilters) {
  std::vector<FieldError> errors;
  ListQuery q = parse_list_query(
      "category=audio&status=inactive&q=%EB%AC%B4%EC%84%A0+ear&updated_since=2026-11-26T09:00:00%"
      "2B09:00",
      errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(q.category, "audio");
  EXPECT_EQ(q.status, "inactive");
  EXPECT_EQ(q.q, "무선 ear");
  EXPECT_EQ(q.updated_since, "2026-11-26T00:00:00.000Z");  // normalized to UTC, fixed width
}

TEST(ListQuery, NamesUnknownParametersWithAHint) {
  auto errors = errors_of("categroy=audio&colour=red");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "categroy");
  EXPECT_EQ(errors[0].message, "is not a known query parameter; did you mean 'category'?");
  EXPECT_EQ(errors[1].field, "colour");
  EXPECT_NE(errors[1].message.find("known: limit, cursor"), std::string::npos);
}

TEST(ListQuery, RefusesBadFilterValuesAndRepeats) {
  auto errors = errors_of("status=deleted&updated_since=yesterday&q=&limit=5&limit=6&cursor=");
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0].field, "status");
  EXPECT_EQ(errors[1].field, "updated_since");
  EXPECT_EQ(errors[2].field, "q");
  EXPECT_EQ(errors[3].field, "limit");
  EXPECT_EQ(errors[3].message, "is given more than once");
  EXPECT_EQ(errors[4].field, "cursor");
  EXPECT_EQ(errors_of("q=" + std::string(101, 'x')).at(0).field, "q");
}

TEST(ListQuery, TheFilterKeyChangesWithEveryFilterButNotWithLimitOrCursor) {
  std::vector<FieldError> errors;
  auto key = [&](const std::string& query) { return parse_list_query(query, errors).filter_key(); };
  EXPECT_EQ(key(""), key("limit=5&cursor=abc"));
  EXPECT_NE(key(""), key("category=audio"));
  EXPECT_NE(key("category=audio"), key("q=audio"));
  EXPECT_NE(key("status=active"), key("status=inactive"));
  EXPECT_NE(key(""), key("updated_since=2026-01-01T00:00:00Z"));
}

// A filter value may hold the key's separator (%1F): it cannot pass for the next filter. These two
// wrote the same key before values were escaped; a key without such characters is unchanged.
TEST(ListQuery, AValueHoldingTheSeparatorCannotPassForTheNextFilter) {
  std::vector<FieldError> errors;
  auto key = [&](const std::string& query) { return parse_list_query(query, errors).filter_key(); };
  EXPECT_NE(key("category=a&q=active%1F-"), key("category=a%1F-&status=active"));
  EXPECT_NE(key("q=%1B%1F"), key("q=%1F"));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(key("category=audio&status=active"), "=audio\x1f=active\x1f-\x1f-\x1f");
}

}  // namespace
