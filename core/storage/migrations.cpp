// Per-owner schema migrations: numbering checks, one transaction per step together with its
// record in schema_migrations, and refusal to run against a database newer than this build.
#include "core/storage/migrations.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "core/util/time.hpp"

namespace portico::storage {

namespace {

// Portable SQL on purpose: other backends (store plugins) reuse this code.
constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations("
    " owner TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " description TEXT NOT NULL,"
    " applied_at TEXT NOT NULL,"
    " PRIMARY KEY (owner, version))";

void ensure_migrations_table(Database& db) {
  db.execute_script(kCreateMigrationsTable);
}

// The steps sorted by version, refusing anything but 1, 2, 3, ... so a typo or a lost step is
// caught before the first one runs.
std::vector<const Migration*> numbered_steps(const std::string& owner,
                                             const std::vector<Migration>& migrations) {
  std::vector<const Migration*> steps;
  steps.reserve(migrations.size());
  for (const auto& migration : migrations) steps.push_back(&migration);
  std::stable_sort(steps.begin(), steps.end(),
                   [](const Migration* a, const Migration* b) { return a->version < b->version; });
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i]->version != static_cast<int>(i) + 1) {
      throw DatabaseError(owner + ": migrations must be numbered 1, 2, 3…; found " +
                          std::to_string(steps[i]->version));
    }
  }
  return steps;
}

std::set<std::int64_t> recorded_versions(Session& db, const std::string& owner) {
  std::set<std::int64_t> versions;
  for (const auto& row :
       db.query("SELECT version FROM schema_migrations WHERE owner = ?", {owner})) {
    versions.insert(row.integer(0));
  }
  return versions;
}

}  // namespace

int apply_migrations(Database& db, const std::string& owner,
                     const std::vector<Migration>& migrations) {
  if (owner.empty()) throw DatabaseError("migration owner must not be empty");
  auto steps = numbered_steps(owner, migrations);
  ensure_migrations_table(db);

  auto recorded = recorded_versions(db, owner);
  if (!recorded.empty() && *recorded.rbegin() > static_cast<std::int64_t>(steps.size())) {
    throw DatabaseError(owner + ": database is at migration " + std::to_string(*recorded.rbegin()) +
                        ", newer than this build (" + std::to_string(steps.size()) + ")");
  }

  const std::string backend = db.backend_name();
  int ran = 0;
  for (const Migration* step : steps) {
    if (recorded.contains(step->version)) continue;
    bool applied = false;
    try {
      db.transaction([&](Session& tx) {
        // Another process sharing the file may have applied it since we looked.
        if (recorded_versions(tx, owner).contains(step->version)) return;
        tx.execute_script(step->sql_for(backend));
        tx.execute(
            "INSERT INTO schema_migrations(owner, version, description, applied_at)"
            " VALUES (?, ?, ?, ?)",
            {owner, std::int64_t{step->version}, step->description,
             util::format_rfc3339(std::chrono::system_clock::now())});
        applied = true;
      });
    } catch (const DatabaseError& error) {
      throw DatabaseError(owner + " migration " + std::to_string(step->version) + " (" +
                          step->description + ") failed: " + error.what());
    }
    if (applied) ++ran;
  }
  return ran;
}

std::vector<AppliedMigration> applied_migrations(Database& db) {
  ensure_migrations_table(db);
  std::vector<AppliedMigration> applied;
  for (const auto& row :
       db.query("SELECT owner, version, description, applied_at FROM schema_migrations"
                " ORDER BY owner, version")) {
    applied.push_back({row.text(0), static_cast<int>(row.integer(1)), row.text(2), row.text(3)});
  }
  return applied;
}

}  // namespace portico::storage
