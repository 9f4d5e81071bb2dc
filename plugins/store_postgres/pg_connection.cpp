#include "pg_connection.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "sql_text.hpp"

namespace portico::store_postgres {

namespace {

// Type OIDs (catalog/pg_type_d.h, stable across versions).
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26,
              kFloat4 = 700, kFloat8 = 701, kNumeric = 1700;

// Prepared statements kept per connection; more distinct statements than this run unprepared.
constexpr std::size_t kMaxPrepared = 1000;

constexpr const char* kSavepoint = "SAVEPOINT portico_statement";
constexpr const char* kRelease = "RELEASE SAVEPOINT portico_statement";
constexpr const char* kUndo =
    "ROLLBACK TO SAVEPOINT portico_statement; RELEASE SAVEPOINT portico_statement";

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode_bytea(const char* text, int length) {
  // bytea_output = hex (the default since 9.0, and set on every connection): \x then hex pairs.
  if (length < 2 || text[0] != '\\' || text[1] != 'x') {
    size_t out_length = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &out_length);
    if (!raw) throw DatabaseError("cannot decode a bytea value");
    std::string out(reinterpret_cast<const char*>(raw), out_length);
    PQfreemem(raw);
    return out;
  }
  std::string out;
  out.resize(static_cast<std::size_t>(length - 2) / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = hex_value(text[2 + 2 * i]);
    const int low = hex_value(text[3 + 2 * i]);
    if (high < 0 || low < 0) throw DatabaseError("cannot decode a bytea value");
    out[i] = static_cast<char>(high * 16 + low);
  }
  return out;
}

Value decode(const char* text, int length, Oid type) {
  switch (type) {
    case kInt8:
    case kInt4:
    case kInt2:
    case kOid: {
      std::int64_t v = 0;
      auto [end, error] = std::from_chars(text, text + length, v);
      if (error != std::errc() || end != text + length) {
        throw DatabaseError("cannot read integer '" + std::string(text, length) + "'");
      }
      return v;
    }
    case kBool:
      return std::int64_t{length > 0 && text[0] == 't' ? 1 : 0};
    case kFloat4:
    case kFloat8:
      return std::strtod(std::string(text, length).c_str(), nullptr);
    case kNumeric: {
      // sum() and avg() of BIGINT are numeric: whole numbers that fit come back as integers.
      std::int64_t v = 0;
      auto [end, error] = std::from_chars(text, text + length, v);
      if (error == std::errc() && end == text + length) return v;
      return std::strtod(std::string(text, length).c_str(), nullptr);
    }
    case kBytea:
      return decode_bytea(text, length);
    default:
      return std::string(text, length);
  }
}

bool starts_with_word(const char* status, const char* word) {
  const std::size_t n = std::strlen(word);
  return std::strncmp(status, word, n) == 0 && (status[n] == '\0' || status[n] == ' ');
}

// Parameters as libpq takes them. Strings in binary format (bytes as they are: any byte, NUL
// included; PostgreSQL checks text columns' encoding itself), numbers as text in the form
// PostgreSQL reads into whatever type the statement gives the parameter.
class Bound {
 public:
  explicit Bound(const Params& params) {
    const std::size_t n = params.size();
    numbers_.resize(n);
    values_.resize(n, nullptr);
    lengths_.resize(n, 0);
    formats_.resize(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v)) continue;
      if (const auto* s = std::get_if<std::string>(&v)) {
        values_[i] = s->data();
        lengths_[i] = static_cast<int>(s->size());
        formats_[i] = 1;
        continue;
      }
      std::string& text = numbers_[i];
      if (const auto* integer = std::get_if<std::int64_t>(&v)) {
        text = std::to_string(*integer);
      } else {
        const double d = std::get<double>(v);
        if (std::isnan(d)) {
          text = "NaN";
        } else if (std::isinf(d)) {
          text = d > 0 ? "Infinity" : "-Infinity";
        } else {
          char buffer[32];
          auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, d);
          (void)error;
          text.assign(buffer, end);
        }
      }
      values_[i] = text.c_str();
      lengths_[i] = static_cast<int>(text.size());
    }
  }
  int count() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<std::string> numbers_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

bool keyword_is(std::string_view sql, std::initializer_list<const char*> words) {
  const std::string keyword = leading_keyword(sql);
  for (const char* w : words) {
    if (keyword == w) return true;
  }
  return false;
}

}  // namespace

[[noreturn]] void throw_for(const PGresult* result, PGconn* conn, std::string_view sql) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  std::string message = primary ? primary : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (detail) message += std::string(" (") + detail + ")";
  const std::string code = state ? state : "";
  if (code.rfind("23", 0) == 0) throw ConstraintError(message);
  const bool unavailable = code.empty() ? PQstatus(conn) == CONNECTION_BAD
                                        : (code.rfind("08", 0) == 0 || code.rfind("53", 0) == 0 ||
                                           code.rfind("57", 0) == 0 || code.rfind("58", 0) == 0 ||
                                           code.rfind("XX", 0) == 0 || code == "40001" ||
                                           code == "40P01" || code == "55P03" || code == "25006");
  if (unavailable) throw StorageUnavailable("PostgreSQL: " + message);
  std::string statement(sql.substr(0, 300));
  for (char& c : statement) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  throw DatabaseError(message + (code.empty() ? "" : " [SQLSTATE " + code + "]") +
                      (statement.empty() ? "" : " in: " + statement));
}

std::string describe_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    std::string why = error ? error : "unreadable";
    if (error) PQfreemem(error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return "an unreadable PostgreSQL address (" + why + ")";
  }
  std::string host, port, dbname, user;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string_view key = o->keyword;
    if (key == "host" || (key == "hostaddr" && host.empty())) host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
    if (key == "user") user = o->val;
  }
  PQconninfoFree(options);
  std::string out = "PostgreSQL database '" + (dbname.empty() ? user : dbname) + "' on " +
                    (host.empty() ? "the default socket" : host) + (port.empty() ? "" : ":" + port);
  if (!user.empty()) out += " as " + user;
  return out;
}

PgConnection::PgConnection(const std::string& conninfo, const std::string& where,
                           std::int64_t connect_timeout_seconds, const std::string& options)
    : where_(where) {
  // Defaults first: what the URL itself says (later in the list) wins.
  const std::string timeout = std::to_string(connect_timeout_seconds);
  const char* keywords[] = {"connect_timeout", "application_name", "options", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "portico", options.c_str(), conninfo.c_str(), nullptr};
  conn_ = PQconnectdbParams(keywords, values, 1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    throw StorageUnavailable("cannot connect to " + where_ + ": " + why);
  }
  // NOTICEs ("relation already exists, skipping") are not errors: not printed on stderr.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  command("SET bytea_output = 'hex'");
}

PgConnection::~PgConnection() {
  if (conn_) PQfinish(conn_);
}

bool PgConnection::broken() const { return !conn_ || PQstatus(conn_) != CONNECTION_OK; }

bool PgConnection::usable() const {
  return !broken() && PQtransactionStatus(conn_) == PQTRANS_IDLE &&
         PQpipelineStatus(conn_) == PQ_PIPELINE_OFF;
}

int PgConnection::backend_pid() const { return conn_ ? PQbackendPID(conn_) : 0; }

const PgConnection::Prepared& PgConnection::prepared(std::string_view sql) {
  if (auto it = statements_.find(std::string(sql)); it != statements_.end()) return it->second;
  Translated translated;
  try {
    translated = translate(sql);
  } catch (const SqlTextError& e) {
    throw DatabaseError(std::string(e.what()) + " in: " + std::string(sql.substr(0, 300)));
  }
  Prepared entry{"portico_" + std::to_string(++next_statement_), translated.placeholders};
  if (statements_.size() >= kMaxPrepared) entry.name.clear();
  Result result(PQprepare(conn_, entry.name.c_str(), translated.sql.c_str(), 0, nullptr));
  if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    throw_for(result.get(), conn_, sql);
  }
  if (entry.name.empty()) {
    // Too many distinct statements: this one stays in the unnamed slot, for this call only.
    unnamed_ = std::move(entry);
    return unnamed_;
  }
  return statements_.emplace(std::string(sql), std::move(entry)).first->second;
}

Outcome PgConnection::collect(PGresult* raw, std::string_view sql) {
  Result result(raw);
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw_for(result.get(), conn_, sql);
  Outcome out;
  const char* command_status = PQcmdStatus(result.get());
  out.wrote = !(starts_with_word(command_status, "SELECT") ||
                starts_with_word(command_status, "SHOW") ||
                starts_with_word(command_status, "EXPLAIN"));
  const char* tuples = PQcmdTuples(result.get());
  if (tuples && *tuples) out.changed = std::strtoll(tuples, nullptr, 10);
  if (status != PGRES_TUPLES_OK) return out;
  const int columns = PQnfields(result.get());
  auto names = std::make_shared<std::vector<std::string>>();
  names->reserve(static_cast<std::size_t>(columns));
  std::vector<Oid> types(static_cast<std::size_t>(columns));
  for (int c = 0; c < columns; ++c) {
    names->emplace_back(PQfname(result.get(), c));
    types[static_cast<std::size_t>(c)] = PQftype(result.get(), c);
  }
  const int rows = PQntuples(result.get());
  out.rows.reserve(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    std::vector<Value> values;
    values.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result.get(), r, c)) {
        values.emplace_back(nullptr);
      } else {
        values.push_back(decode(PQgetvalue(result.get(), r, c), PQgetlength(result.get(), r, c),
                                types[static_cast<std::size_t>(c)]));
      }
    }
    out.rows.emplace_back(names, std::move(values));
  }
  if (out.rows.empty() && starts_with_word(command_status, "SELECT")) out.changed = 0;
  return out;
}

Outcome PgConnection::run(std::string_view sql, const Params& params, bool guarded) {
  if (broken()) throw StorageUnavailable("the connection to " + where_ + " was lost");
  const Prepared& statement = prepared(sql);
  if (static_cast<std::size_t>(statement.placeholders) != params.size()) {
    throw DatabaseError("the statement has " + std::to_string(statement.placeholders) +
                        " placeholder(s) and " + std::to_string(params.size()) +
                        " value(s) were given: " + std::string(sql.substr(0, 300)));
  }
  const Bound bound(params);
  // Savepoint statements of the caller's own must not sit inside ours.
  if (guarded && keyword_is(sql, {"SAVEPOINT", "RELEASE", "ROLLBACK"})) guarded = false;
  if (!guarded) {
    return collect(PQexecPrepared(conn_, statement.name.c_str(), bound.count(), bound.values(),
                                  bound.lengths(), bound.formats(), 0),
                   sql);
  }
  // SAVEPOINT, the statement, RELEASE in one pipeline: one round trip.
  if (PQenterPipelineMode(conn_) != 1) throw_for(nullptr, conn_, sql);
  const bool sent =
      PQsendQueryParams(conn_, kSavepoint, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1 &&
      PQsendQueryPrepared(conn_, statement.name.c_str(), bound.count(), bound.values(),
                          bound.lengths(), bound.formats(), 0) == 1 &&
      PQsendQueryParams(conn_, kRelease, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1 &&
      PQpipelineSync(conn_) == 1;
  if (!sent) {
    PQexitPipelineMode(conn_);
    throw StorageUnavailable("cannot send to " + where_ + ": " + PQerrorMessage(conn_));
  }
  Result results[3];
  bool lost = false;
  for (auto& slot : results) {
    PGresult* r = PQgetResult(conn_);
    if (!r) {
      lost = true;
      break;
    }
    slot.reset(r);
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);  // the NULL that ends each query
  }
  if (!lost) {
    Result sync(PQgetResult(conn_));
    lost = !sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC;
  }
  PQexitPipelineMode(conn_);
  if (lost || broken()) throw StorageUnavailable("the connection to " + where_ + " was lost");
  const ExecStatusType status = PQresultStatus(results[1].get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    if (PQresultStatus(results[2].get()) != PGRES_COMMAND_OK) {
      throw_for(results[2].get(), conn_, kRelease);
    }
    return collect(results[1].release(), sql);
  }
  if (PQresultStatus(results[0].get()) != PGRES_COMMAND_OK) {
    throw_for(results[0].get(), conn_, kSavepoint);
  }
  // The statement failed: back to before it, and the transaction goes on.
  Result undo(PQexec(conn_, kUndo));
  if (!undo || PQresultStatus(undo.get()) != PGRES_COMMAND_OK) {
    throw_for(undo.get(), conn_, kUndo);
  }
  throw_for(results[1].get(), conn_, sql);
}

void PgConnection::run_script(std::string_view script) {
  if (broken()) throw StorageUnavailable("the connection to " + where_ + " was lost");
  std::string joined;
  try {
    for (std::string_view statement : split_statements(script)) {
      Translated translated = translate(statement);
      if (translated.placeholders > 0) {
        throw DatabaseError("a script takes no ? parameters: " +
                            std::string(statement.substr(0, 300)));
      }
      joined += translated.sql;
      joined += ";\n";
    }
  } catch (const SqlTextError& e) {
    throw DatabaseError(std::string(e.what()) + " in: " + std::string(script.substr(0, 300)));
  }
  if (joined.empty()) return;
  Result result(PQexec(conn_, joined.c_str()));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw_for(result.get(), conn_, script);
  }
}

void PgConnection::command(const char* sql) {
  Result result(PQexec(conn_, sql));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw_for(result.get(), conn_, sql);
}

}  // namespace portico::store_postgres
