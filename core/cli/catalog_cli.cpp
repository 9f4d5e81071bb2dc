// `portico catalog import FILE`: catalog files (JSON array or CSV) read and checked for shape
// here, posted to the admin import route in batches (each batch one transaction on the server),
// and the server's field errors mapped back to the file's items and lines.
#include "core/cli/catalog_cli.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/cli/cli_args.hpp"
#include "core/cli/cli_context.hpp"
#include "core/util/strings.hpp"
#include "portico/sdk/json.hpp"

namespace portico::app::catalog_cli {
namespace {

using json = nlohmann::json;
namespace pcli = partners::cli;

constexpr std::size_t kDefaultBatch = 1000;
// Below the default server.max_body (1 MiB), which the admin listener shares.
constexpr std::size_t kMaxBatchBytes = 768 * 1024;

std::string line_and_column(std::string_view text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

// RFC 4180 records: comma-separated, "quoted" fields with "" for a quote and line breaks inside
// quotes, LF or CRLF line ends. Each record comes with the line it starts on.
struct CsvRecord {
  std::size_t line = 0;
  std::vector<std::string> fields;
};

std::vector<CsvRecord> csv_records(std::string_view text, const std::string& name) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 BOM from spreadsheets
  std::vector<CsvRecord> records;
  CsvRecord record{1, {}};
  std::string field;
  std::size_t line = 1;
  bool quoted = false, field_started = false;
  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    bool blank = record.fields.size() == 1 && record.fields[0].empty();
    if (!blank) records.push_back(std::move(record));
    record = CsvRecord{line, {}};
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
        if (i + 1 < text.size() && text[i + 1] != ',' && text[i + 1] != '\n' && text[i + 1] != '\r')
          throw CatalogFileError(name + ":" + std::to_string(line) +
                                 ": text after a closing quote (write \"\" for a quote inside)");
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
    } else if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      end_record();
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (quoted) {
    throw CatalogFileError(name + ":" + std::to_string(record.line) +
                           ": a quoted field is not closed before the end of the file");
  }
  if (field_started || !record.fields.empty()) end_record();
  return records;
}

std::int64_t csv_integer(const std::string& cell, const std::string& where) {
  std::size_t used = 0;
  std::int64_t value = 0;
  bool ok = !cell.empty() && cell.find_first_not_of("-0123456789") == std::string::npos;
  if (ok) {
    try {
      value = std::stoll(cell, &used);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok || used != cell.size()) {
    throw CatalogFileError(where + ": '" + cell + "' is not a whole number");
  }
  return value;
}

// "[3].price.amount" → "[13].price.amount" for a batch starting at item 10.
std::string shift_index(const std::string& field, std::size_t offset) {
  if (field.size() < 3 || field[0] != '[') return field;
  auto close = field.find(']');
  if (close == std::string::npos) return field;
  try {
    std::size_t index = std::stoul(field.substr(1, close - 1)) + offset;
    return "[" + std::to_string(index) + "]" + field.substr(close + 1);
  } catch (const std::exception&) {
    return field;
  }
}

std::size_t index_of(const std::string& field) {
  try {
    return std::stoul(field.substr(1, field.find(']') - 1));
  } catch (const std::exception&) {
    return static_cast<std::size_t>(-1);
  }
}

// Batches of at most `count` items and kMaxBatchBytes of JSON each: [first, last).
std::vector<std::pair<std::size_t, std::size_t>> batches(const json& items, std::size_t count) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t first = 0, bytes = 2;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::size_t size = items[i].dump().size() + 1;
    if (i > first && (i - first >= count || bytes + size > kMaxBatchBytes)) {
      out.emplace_back(first, i);
      first = i;
      bytes = 2;
    }
    bytes += size;
  }
  if (first < items.size()) out.emplace_back(first, items.size());
  return out;
}

int import_command(const pcli::ParsedArgs& args, const pcli::TransportFactory& connect,
                   std::ostream& out, std::ostream& err) {
  const std::string& path = args.positional[0];
  std::string format = args.value("--format") ? *args.value("--format") : "";
  if (!format.empty() && format != "json" && format != "csv")
    throw pcli::UsageError("--format is json or csv");
  std::size_t batch = kDefaultBatch;
  if (auto* text = args.value("--batch")) {
    batch = static_cast<std::size_t>(csv_integer(*text, "--batch"));
    if (batch < 1 || batch > 10000) throw pcli::UsageError("--batch is 1 to 10000");
  }
  CatalogFile file = read_catalog_file(path, format);
  if (file.items.empty()) throw CatalogFileError(path + ": no products in the file");

  pcli::Context context{args, connect({args.config_file, args.admin_url}), out};
  json totals = {{"created", 0}, {"updated", 0}, {"unchanged", 0}, {"inventory_changed", 0}};
  std::size_t done = 0;
  for (auto [first, last] : batches(file.items, batch)) {
    json part(json::value_t::array);
    for (std::size_t i = first; i < last; ++i) part.push_back(file.items[i]);
    json answer;
    try {
      answer = context.call("POST", "/admin/v1/products/import", part);
    } catch (const pcli::ApiProblem& problem) {
      err << "portico catalog import: " << path << ": " << problem.what() << "\n";
      if (problem.body.is_object() && problem.body["errors"].is_array()) {
        for (const auto& e : problem.body["errors"]) {
          std::string field = shift_index(pcli::text_of(e, "field"), first);
          std::size_t index = field.starts_with("[") ? index_of(field) : file.lines.size();
          std::string where = index < file.lines.size()
                                  ? path + ":" + std::to_string(file.lines[index]) + " " + field
                                  : field;
          err << "  " << where << ": " << pcli::text_of(e, "message") << "\n";
        }
      }
      if (done > 0) err << "Items [0] to [" << done - 1 << "] were imported by earlier batches.\n";
      if (problem.status == 401)
        err << "Check the admin token (PORTICO_ADMIN_TOKEN or admin.token).\n";
      bool file_at_fault = problem.status == 400 || problem.status == 409 || problem.status == 422;
      return file_at_fault ? 2 : 1;
    }
    for (const char* key : {"created", "updated", "unchanged", "inventory_changed"})
      totals[key] = totals[key].get<std::int64_t>() + answer.value(key, std::int64_t{0});
    done = last;
  }
  if (args.json) {
    totals["products"] = file.items.size();
    out << totals.dump(2) << "\n";
  } else {
    out << "Imported " << file.items.size() << " product(s) from " << path << ": "
        << totals["created"] << " created, " << totals["updated"] << " updated, "
        << totals["unchanged"] << " unchanged; stock changed for " << totals["inventory_changed"]
        << ".\n";
  }
  return 0;
}

const pcli::SubCommandSpec& import_spec() {
  static const pcli::SubCommandSpec spec{
      "import",
      {"FILE"},
      "Upsert the products of FILE (a JSON array like POST /admin/v1/products/import takes, or "
      "CSV with a header row: id,sku,name,description,category,price_amount,currency,status,"
      "attributes,stock.<warehouse>...; sku, name, price_amount and currency are required). "
      "Sent in batches; each batch is all-or-nothing.",
      {{"--format", "json|csv", "file format (default: by extension, .csv is CSV)"},
       {"--batch", "N", "products per request (default 1000)"}}};
  return spec;
}

}  // namespace

CatalogFile parse_catalog_json(std::string_view text, const std::string& name) {
  CatalogFile file;
  sdk::JsonParse parsed = sdk::parse_json(text, sdk::kDefaultMaxJsonDepth);
  if (!parsed.ok()) {
    const sdk::JsonError& error = *parsed.error;
    const std::string where =
        name + ":" + line_and_column(text, error.byte ? error.byte - 1 : 0) + ": ";
    if (error.kind == sdk::JsonError::Kind::syntax) {
      throw CatalogFileError(where + "not valid JSON");
    }
    throw CatalogFileError(where + (error.field.empty() ? "the document" : error.field) + " " +
                           error.message);
  }
  file.items = std::move(parsed.value);
  if (!file.items.is_array()) throw CatalogFileError(name + ": must hold a JSON array of products");
  for (std::size_t i = 0; i < file.items.size(); ++i) {
    if (!file.items[i].is_object())
      throw CatalogFileError(name + ": item [" + std::to_string(i) + "] is not a product object");
  }
  return file;
}

CatalogFile parse_catalog_csv(std::string_view text, const std::string& name) {
  std::vector<CsvRecord> records = csv_records(text, name);
  if (records.empty()) throw CatalogFileError(name + ": empty; the first line names the columns");
  const std::vector<std::string> known = {"id",          "sku",      "name",
                                          "description", "category", "price_amount",
                                          "currency",    "status",   "attributes"};
  const std::vector<std::string>& header = records.front().fields;
  for (std::size_t c = 0; c < header.size(); ++c) {
    const std::string& column = header[c];
    // A warehouse's name comes from its column: it must be text, as every cell must.
    if (!util::is_utf8(column)) {
      throw CatalogFileError(name + ":1: column " + std::to_string(c + 1) +
                             " of the header is not valid UTF-8 text");
    }
    bool ok = column.starts_with("stock.") && column.size() > 6;
    for (const auto& k : known) ok = ok || column == k;
    if (!ok) {
      throw CatalogFileError(name + ":1: unknown column '" + column +
                             "' (columns: id, sku, name, description, category, price_amount, "
                             "currency, status, attributes, stock.<warehouse>)");
    }
  }
  for (const char* required : {"sku", "name", "price_amount", "currency"}) {
    if (std::find(header.begin(), header.end(), required) == header.end())
      throw CatalogFileError(name + ":1: the header has no '" + required + "' column");
  }
  CatalogFile file;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    const std::string where = name + ":" + std::to_string(record.line);
    if (record.fields.size() != header.size()) {
      throw CatalogFileError(where + ": " + std::to_string(record.fields.size()) +
                             " fields, the header has " + std::to_string(header.size()));
    }
    json item = json::object();
    json stock = json::array();
    for (std::size_t c = 0; c < header.size(); ++c) {
      const std::string& column = header[c];
      const std::string& cell = record.fields[c];
      if (cell.empty()) continue;
      const std::string at = where + " " + column;
      if (!util::is_utf8(cell)) throw CatalogFileError(at + ": not valid UTF-8 text");
      if (column == "price_amount") {
        item["price"]["amount"] = csv_integer(cell, at);
      } else if (column == "currency") {
        item["price"]["currency"] = cell;
      } else if (column == "attributes") {
        sdk::JsonParse attributes = sdk::parse_json(cell, sdk::kDefaultMaxJsonDepth);
        if (!attributes.ok() || !attributes.value.is_object()) {
          throw CatalogFileError(at + ": not a JSON object" +
                                 (attributes.ok() ? "" : " (" + attributes.error->message + ")"));
        }
        item["attributes"] = std::move(attributes.value);
      } else if (column.starts_with("stock.")) {
        stock.push_back({{"id", column.substr(6)}, {"available", csv_integer(cell, at)}});
      } else {
        item[column] = cell;
      }
    }
    if (!stock.empty()) item["inventory"] = {{"warehouses", std::move(stock)}};
    file.items.push_back(std::move(item));
    file.lines.push_back(record.line);
  }
  return file;
}

CatalogFile read_catalog_file(const std::string& path, const std::string& format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CatalogFileError(path + ": cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  bool csv = format == "csv" || (format.empty() && path.size() > 4 &&
                                 (path.ends_with(".csv") || path.ends_with(".CSV")));
  return csv ? parse_catalog_csv(text, path) : parse_catalog_json(text, path);
}

int run(const std::vector<std::string>& args, const partners::cli::TransportFactory& connect,
        std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    auto& stream = args.empty() ? err : out;
    stream << "Usage: portico catalog import FILE [options]\n\n  import    "
           << import_spec().summary << "\n\nRun 'portico catalog import --help' for its options.\n";
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "import") {
    err << "portico catalog: unknown command '" << args[0] << "'; commands: import\n";
    return 2;
  }
  const std::string where = "portico catalog import";
  try {
    pcli::ParsedArgs parsed = pcli::parse_args(import_spec(), {args.begin() + 1, args.end()});
    if (parsed.help) {
      pcli::print_sub_command_help(kGroup, import_spec(), out);
      return 0;
    }
    return import_command(parsed, connect, out, err);
  } catch (const pcli::UsageError& e) {
    err << where << ": " << e.what() << "\nRun '" << where << " --help' for its options.\n";
    return 2;
  } catch (const CatalogFileError& e) {
    err << where << ": " << e.what() << "\n";
    return 2;
  }
}

}  // namespace portico::app::catalog_cli
