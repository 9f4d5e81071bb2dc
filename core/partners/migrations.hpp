// The partners module's schema (owner "partners"): partners, their API keys (stored only as keyed
// hashes) and the generated key-hash secret.
#pragma once

#include <vector>

#include "portico/database.hpp"

namespace portico::partners {

inline constexpr const char* kMigrationOwner = "partners";

std::vector<Migration> partners_migrations();

}  // namespace portico::partners
