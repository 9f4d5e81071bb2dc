// Catalog files for `portico catalog import`: what the parsers refuse, naming the file and line
// (exit 2) instead of failing later while serializing the batch.
#include <gtest/gtest.h>

#include <string>

#include "core/cli/catalog_cli.hpp"

namespace portico::app::catalog_cli {
namespace {

std::string refusal(const std::string& text, bool csv) {
  try {
    if (csv) {
      parse_catalog_csv(text, "x.csv");
    } else {
      parse_catalog_json(text, "x.json");
    }
  } catch (const CatalogFileError& error) {
    return error.what();
  }
  return "accepted";
}

// Found by the csv_import fuzz target: a Latin-1 spreadsheet export passed through, and the
// import then died with nlohmann's "invalid UTF-8 byte" (exit 1).
TEST(CatalogFile, CsvCellsThatAreNotUtf8AreRefusedByLine) {
  const std::string message =
      refusal("sku,name,price_amount,currency\nA,\xff caf\xe9,1,EUR\n", true);
  EXPECT_NE(message.find("x.csv:2"), std::string::npos) << message;
  EXPECT_NE(message.find("not valid UTF-8"), std::string::npos) << message;
  EXPECT_EQ(refusal("sku,name,price_amount,currency\nA,café,1,EUR\n", true), "accepted");
}

// Found by the csv_import fuzz target: a warehouse column named in bytes that are not UTF-8
// (`stock.\xd8\xdb`) passed the header's check, and its name reached the batch's JSON.
TEST(CatalogFile, CsvHeaderColumnsThatAreNotUtf8AreRefused) {
  const std::string message =
      refusal("sku,name,price_amount,currency,stock.\xd8\xdb\nA,B,1,EUR,3\n", true);
  EXPECT_NE(message.find("x.csv:1: column 5 of the header is not valid UTF-8"),
            std::string::npos)
      << message;
  EXPECT_EQ(refusal("sku,name,price_amount,currency,stock.Séoul\nA,B,1,EUR,3\n", true),
            "accepted");
}

TEST(CatalogFile, JsonNestedTooDeepIsRefusedNotCrashed) {
  const std::string deep =
      "[{\"attributes\":" + std::string(100000, '[') + std::string(100000, ']') + "}]";
  const std::string message = refusal(deep, false);
  EXPECT_NE(message.find("x.json:1:"), std::string::npos) << message;
  EXPECT_NE(message.find("nested deeper than 64 levels"), std::string::npos) << message;
}

}  // namespace
}  // namespace portico::app::catalog_cli
