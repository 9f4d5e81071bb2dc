// Fuzz target: `portico catalog import` reading a catalog file. The input is the file: CSV
// (parse_catalog_csv: RFC 4180 records, the header row, price and stock integers, the attributes
// cell as JSON) and the same bytes as a JSON catalog (parse_catalog_json). Every item that comes
// out is then handled as the command and the admin route handle it: serialized into a request
// batch (the command sends JSON), parsed back by the route with sdk::parse_json_text, and read by
// routes_products' read_product like an item of POST /admin/v1/products/import.
//
// Expected: CatalogFileError (exit 2 naming file:line) for the file, ProblemError from the route.
// Anything else escaping aborts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/cli/catalog_cli.hpp"
#include "core/util/strings.hpp"
#include "plugins/routes_products/product_input.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/fields.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace catalog = portico::app::catalog_cli;
namespace fuzz = portico::fuzz;
namespace sdk = portico::sdk;

// Whether every string in `value` (keys too) is UTF-8.
bool utf8_throughout(const nlohmann::json& value) {
  if (value.is_string()) return portico::util::is_utf8(value.get_ref<const std::string&>());
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (!portico::util::is_utf8(key) || !utf8_throughout(member)) return false;
    }
  } else if (value.is_array()) {
    for (const auto& member : value) {
      if (!utf8_throughout(member)) return false;
    }
  }
  return true;
}

void send(const catalog::CatalogFile& file) {
  fuzz::check(file.items.is_array(), "catalog items are not an array");
  std::vector<portico::FieldError> errors;
  for (std::size_t i = 0; i < file.items.size(); ++i) {
    const nlohmann::json& item = file.items[i];
    fuzz::check(item.is_object(), "a catalog item is not an object");
    // Cells that are not UTF-8 are refused by the parser (crashes/invalid_utf8_cell.csv).
    fuzz::check(utf8_throughout(item), "a catalog cell that is not UTF-8 got through");
    // What the command does with an item before sending it: serialize it into a batch.
    std::string text;
    fuzz::expect_only<fuzz::Never>([&] { text = item.dump(); });
    // What the route does with it: parse the body, read the product.
    fuzz::expect_only<portico::ProblemError>([&] {
      const nlohmann::json received = sdk::parse_json_text(text, sdk::kDefaultMaxJsonDepth);
      fuzz::check(received == item, "a catalog item changed on its way to the route");
      (void)portico::routes_products::read_product(received, "[" + std::to_string(i) + "].", true,
                                                   errors);
    });
  }
  if (!file.lines.empty()) {
    fuzz::check(file.lines.size() == file.items.size(), "a CSV item without its line");
    for (std::size_t i = 1; i < file.lines.size(); ++i) {
      fuzz::check(file.lines[i] > file.lines[i - 1], "CSV record lines out of order");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::expect_only<catalog::CatalogFileError>(
      [&] { send(catalog::parse_catalog_csv(text, "fuzz.csv")); });
  fuzz::expect_only<catalog::CatalogFileError>(
      [&] { send(catalog::parse_catalog_json(text, "fuzz.json")); });
  return 0;
}
