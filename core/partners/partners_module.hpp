// One call to set the partners module up at start: migrations, key secret, key index, service.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/partners/key_directory.hpp"
#include "core/partners/partner_service.hpp"

namespace portico::partners {

struct PartnersModule {
  std::shared_ptr<KeyDirectory> keys;       // the CredentialDirectory for auth plugins
  std::shared_ptr<PartnerService> service;  // for add_partner_admin_routes
};

// Applies the "partners" migrations, resolves the key-hash secret (security.key_secret, else the
// generated one in core_secrets) and loads every partner and live key into memory.
// Throws KeySecretError for a configured secret under 32 characters, DatabaseError on store errors.
PartnersModule open_partners(
    std::shared_ptr<Database> db, const config::Config& config, PartnerService::TierNames tiers,
    Clock clock = [] { return std::chrono::system_clock::now(); });

// The configured tier names, e.g. {"basic", "premium"}.
std::vector<std::string> tier_names(const config::Config& config);

}  // namespace portico::partners
