// Request bodies: JSON objects or a 400 naming the body; field problems as one 400 that names or
// counts them and says what did not happen.
#include <gtest/gtest.h>

#include "portico/sdk/fields.hpp"

namespace {

namespace sdk = portico::sdk;
using portico::ProblemError;

TEST(JsonBody, RefusesEmptyMalformedAndNonObjectBodies) {
  for (const char* text : {"", "{", "[1,2]", "\"cancelled\"", "null"}) {
    try {
      sdk::parse_json_text(text, 64);
      ADD_FAILURE() << "accepted " << text;
    } catch (const ProblemError& error) {
      EXPECT_EQ(error.problem().status, 400);
      EXPECT_EQ(error.problem().code, "invalid_request");
      ASSERT_EQ(error.problem().errors.size(), 1u);
      EXPECT_EQ(error.problem().errors[0].field, "body");
    }
  }
  EXPECT_EQ(sdk::parse_json_text(R"({"status":"cancelled"})", 64)["status"], "cancelled");
}

TEST(JsonBody, RefusalListsTheErrorsAndSaysNothingChanged) {
  EXPECT_NO_THROW(sdk::refuse_invalid_fields({}));
  try {
    sdk::refuse_invalid_fields({{"status", "is required"}});
    ADD_FAILURE();
  } catch (const ProblemError& error) {
    EXPECT_EQ(error.problem().detail, "status is required. Nothing was changed.");
  }
  try {
    sdk::refuse_invalid_fields({{"carrier", "x"}, {"tracking_number", "y"}});
    ADD_FAILURE();
  } catch (const ProblemError& error) {
    EXPECT_EQ(error.problem().detail, "2 fields are not valid. Nothing was changed.");
    EXPECT_EQ(error.problem().errors.size(), 2u);
  }
}

TEST(JsonBody, ArraysPassWhenObjectsAreNotRequired) {
  EXPECT_TRUE(sdk::parse_json_text("[1, 2]", 64, false).is_array());
  try {
    sdk::parse_json_text("", 64, false, "{\"items\"}");
    ADD_FAILURE();
  } catch (const ProblemError& error) {
    EXPECT_EQ(error.problem().detail, "The request needs a JSON body: {\"items\"}.");
  }
}

TEST(JsonBody, AtMostAHundredProblemsAreListed) {
  std::vector<portico::FieldError> errors(150, {"items[0].quantity", "must be a whole number"});
  auto problem = sdk::invalid_fields(errors, "No order was created.").problem();
  EXPECT_EQ(problem.errors.size(), 100u);
  EXPECT_EQ(problem.detail,
            "150 fields are not valid. The first 100 are listed. No order was created.");
}

}  // namespace

namespace {

std::string repeated(const std::string& text, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += text;
  return out;
}

std::string nested(char open, char close, std::size_t depth) {
  return std::string(depth, open) + std::string(depth, close);
}

portico::Problem refusal(const std::string& text, int max_depth = 64) {
  try {
    sdk::parse_json_text(text, max_depth, false);
  } catch (const ProblemError& error) {
    return error.problem();
  }
  ADD_FAILURE() << "accepted " << text.substr(0, 60);
  return {};
}

// The crash of issue 14: 100,000 nested arrays used to reach a recursive dump().
TEST(JsonBody, DeepNestingIsRefusedNamingTheLimit) {
  for (const std::string& text :
       {nested('[', ']', 100000), "{\"metadata\":" + nested('[', ']', 100000) + "}",
        nested('[', ']', 65), std::string(200000, '['), repeated("{\"a\":", 70)}) {
    portico::Problem problem = refusal(text);
    EXPECT_EQ(problem.status, 400);
    EXPECT_EQ(problem.code, "invalid_request");
    EXPECT_NE(problem.detail.find("64 levels"), std::string::npos) << problem.detail;
  }
  std::string where = "metadata";  // the object is level 1, the 63 arrays inside it 2..64
  for (int i = 0; i < 63; ++i) where += "[0]";
  EXPECT_EQ(refusal("{\"metadata\":" + nested('[', ']', 100) + "}").errors.at(0).field, where);
  EXPECT_NO_THROW(sdk::parse_json_text(nested('[', ']', 64), 64, false));
  EXPECT_EQ(refusal(nested('[', ']', 9), 8).detail,
            "The body nests arrays and objects deeper than 8 levels, the limit.");
}

TEST(JsonBody, NumbersOutOfRangeAre400NamingTheField) {
  portico::Problem problem = refusal(R"({"items":[{"product_id":"p","quantity":1e400}]})");
  EXPECT_EQ(problem.status, 400);
  ASSERT_EQ(problem.errors.size(), 1u);
  EXPECT_EQ(problem.errors[0].field, "items[0].quantity");
  EXPECT_EQ(problem.errors[0].message, "is a number too large to represent");
  EXPECT_EQ(refusal("[1, 2, -1e999]").errors.at(0).field, "[2]");
  EXPECT_EQ(refusal("1e400").errors.at(0).field, "body");
  // Large but representable numbers are values like any other.
  EXPECT_EQ(sdk::parse_json_text(R"({"a":1e300,"b":18446744073709551616})", 64)["a"], 1e300);
}

TEST(JsonParse, ValuesAndErrorsWithoutExceptions) {
  auto good = sdk::parse_json(R"({"a":[1,{"b":null}],"c":"d"})");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value["a"][1]["b"], nullptr);
  auto bad = sdk::parse_json(R"({"a":[1,}")");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error->kind, sdk::JsonError::Kind::syntax);
  EXPECT_TRUE(bad.value.is_null());
}

}  // namespace
