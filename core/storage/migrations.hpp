// Per-owner schema migrations ("core" and each plugin), recorded in schema_migrations.
#pragma once

#include <string>
#include <vector>

#include "portico/database.hpp"

namespace portico::storage {

struct AppliedMigration {
  std::string owner;
  int version = 0;
  std::string description;
  std::string applied_at;
};

// Applies the migrations of `owner` not yet recorded, each in its own transaction with its record.
// Returns how many ran. Throws DatabaseError naming owner and version when a step fails, when
// versions are not 1, 2, 3..., or when the database holds a newer version than `migrations` knows.
int apply_migrations(Database& db, const std::string& owner,
                     const std::vector<Migration>& migrations);

std::vector<AppliedMigration> applied_migrations(Database& db);

// The core's own tables (the transactional outbox, ...).
std::vector<Migration> core_migrations();

}  // namespace portico::storage
