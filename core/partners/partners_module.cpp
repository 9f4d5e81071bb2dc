// open_partners(): the start-up sequence of the partners module.
#include "core/partners/partners_module.hpp"

#include "core/partners/migrations.hpp"
#include "core/storage/migrations.hpp"

namespace portico::partners {

PartnersModule open_partners(std::shared_ptr<Database> db, const config::Config& config,
                             PartnerService::TierNames tiers, Clock clock) {
  storage::apply_migrations(*db, kMigrationOwner, partners_migrations());
  KeyHasher hasher(resolve_key_secret(*db, config.security.key_secret));
  auto keys = std::make_shared<KeyDirectory>(db, std::move(hasher), clock);
  keys->load();
  auto service = std::make_shared<PartnerService>(db, keys, std::move(tiers), std::move(clock));
  return {std::move(keys), std::move(service)};
}

std::vector<std::string> tier_names(const config::Config& config) {
  std::vector<std::string> names;
  for (const auto& [name, tier] : config.tiers) names.push_back(name);
  return names;
}

}  // namespace portico::partners
