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
      sdk::parse_json_body(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const ProblemError& error) {
      EXPECT_EQ(error.problem().status, 400);
      EXPECT_EQ(error.problem().code, "invalid_request");
      ASSERT_EQ(error.problem().errors.size(), 1u);
      EXPECT_EQ(error.problem().errors[0].field, "body");
    }
  }
  EXPECT_EQ(sdk::parse_json_body(R"({"status":"cancelled"})")["status"], "cancelled");
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
  EXPECT_TRUE(sdk::parse_json_body("[1, 2]", false).is_array());
  try {
    sdk::parse_json_body("", false, "{\"items\"}");
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
