// The Database conformance suite (database_conformance.hpp) run against the built-in SQLite
// backend, with its default options (group commit on).
#include "core/storage/sqlite_database.hpp"
#include "tests/unit/storage/database_conformance.hpp"

namespace portico::test {
namespace {

struct SqliteBackend {
  static constexpr const char* name = "sqlite";
  static std::shared_ptr<Database> open(const std::filesystem::path& scratch_dir) {
    return storage::open_sqlite({.path = (scratch_dir / "conformance.db").string()});
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, DatabaseConformance, SqliteBackend, BackendName);

}  // namespace
}  // namespace portico::test
