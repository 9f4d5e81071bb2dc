// The Database conformance suite (tests/unit/storage/database_conformance.hpp) against the
// PostgreSQL store, each test on a database of its own in a PostgreSQL 15 server the test binary
// starts (tests/support/postgres_server.hpp).
#include "pg_database.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/unit/storage/database_conformance.hpp"

namespace portico::test {
namespace {

struct PostgresBackend {
  static constexpr const char* name = "postgres";
  static std::shared_ptr<Database> open(const std::filesystem::path&) {
    if (!PostgresServer::available()) {
      throw std::runtime_error("PostgreSQL is not installed (packaging/dev.sh installs it)");
    }
    store_postgres::PgOptions options;
    options.conninfo = PostgresServer::shared().create_database("conformance");
    return store_postgres::open_postgres(options);
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, DatabaseConformance, PostgresBackend, BackendName);

}  // namespace
}  // namespace portico::test
