// `portico catalog import FILE`: reads a catalog file (a JSON array of products, or CSV with a
// header row) and posts it to POST /admin/v1/products/import in batches — a thin client of the
// admin API like `portico partner`, over the same transport.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/cli/partner_cli.hpp"

namespace portico::app::catalog_cli {

inline constexpr const char* kGroup = "catalog";
inline constexpr const char* kSummary =
    "Import products and stock into the catalog: import FILE (via the admin API)";

// A catalog file that cannot be read as products; the message names the file and the line (or
// the item) at fault. Exit code 2.
class CatalogFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The items of a catalog file as the import route takes them. For CSV, the line each item's
// record starts on (JSON items are named by index: "[3]").
struct CatalogFile {
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::size_t> lines;
};

// `format` is "json", "csv" or "" (by extension: .csv is CSV, anything else JSON).
CatalogFile read_catalog_file(const std::string& path, const std::string& format);
CatalogFile parse_catalog_json(std::string_view text, const std::string& name);
// Header row: id, sku, name, description, category, price_amount, currency, status, attributes
// (a JSON object) and stock.<warehouse> columns; sku, name, price_amount and currency are
// required. Empty cells are left out.
CatalogFile parse_catalog_csv(std::string_view text, const std::string& name);

// Runs `portico catalog ...` (args after "catalog"). 0 ok; 1 the API could not do it; 2 bad
// usage or a bad file (including items the API refused as invalid, named by file line).
int run(const std::vector<std::string>& args, const partners::cli::TransportFactory& connect,
        std::ostream& out, std::ostream& err);

}  // namespace portico::app::catalog_cli
