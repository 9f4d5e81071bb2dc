// store_postgres: the gateway's database on PostgreSQL — `[storage] backend = "postgres"`,
// `url = "postgresql://…"`. Metadata, schema and the factory; the store is pg_database.hpp.
#include <chrono>
#include <memory>
#include <string>

#include "pg_database.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/schema.hpp"

namespace {

namespace sp = portico::store_postgres;

class PostgresStore final : public portico::StoreBackend {
 public:
  std::shared_ptr<portico::Database> open(const nlohmann::json& config) override {
    sp::PgOptions options;
    options.conninfo = config.value("url", std::string());
    if (options.conninfo.empty()) {
      throw portico::DatabaseError(
          "storage.url is empty: set it to the database, e.g. "
          "url = \"postgresql://portico@db.internal:5432/portico\" or "
          "url = \"${PORTICO_DATABASE_URL}\"");
    }
    const auto ms = [&](const char* key, std::int64_t fallback) {
      return std::chrono::milliseconds(config.value(key, fallback));
    };
    options.pool_size = config.value("pool_size", std::size_t{8});
    options.pool_timeout = ms("pool_timeout", 5000);
    options.connect_timeout = ms("connect_timeout", 5000);
    options.lock_timeout = ms("lock_timeout", 5000);
    options.statement_timeout = ms("statement_timeout", 30000);
    options.channel = config.value("notify_channel", std::string("portico_writes"));
    return sp::open_postgres(options);
  }
};

class PostgresStorePlugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "store_postgres";
  static constexpr const char* kVersion = "1.0.0";

  portico::PluginInfo info() const override {
    namespace sdk = portico::sdk;
    return {.name = kName,
            .version = kVersion,
            .description = "The gateway's database on PostgreSQL: one database for many nodes",
            .priority = 100,
            .kinds = {portico::PluginKind::store},
            .schema = sdk::schema(
                {sdk::integer("pool_size")
                     .describe("Connections this node keeps to the database (at most)")
                     .min(1)
                     .max(200)
                     .fallback(8),
                 sdk::duration("pool_timeout")
                     .describe("How long a call waits for a free connection before 503")
                     .min(1)
                     .max(600000)
                     .fallback("5s"),
                 sdk::duration("connect_timeout")
                     .describe("How long opening a connection may take")
                     .min(1000)
                     .max(600000)
                     .fallback("5s"),
                 sdk::duration("lock_timeout")
                     .describe("How long a write waits for the write lock (held by another "
                               "node's transaction) before 503 storage_unavailable")
                     .min(1)
                     .max(600000)
                     .fallback("5s"),
                 sdk::duration("statement_timeout")
                     .describe("How long one statement may run before 503")
                     .min(1)
                     .max(3600000)
                     .fallback("30s"),
                 sdk::string("notify_channel")
                     .describe("LISTEN/NOTIFY channel that tells every node of a commit")
                     .fallback("portico_writes")})};
  }

  portico::StoreBackend* store() override { return &store_; }

 private:
  PostgresStore store_;
};

}  // namespace

PORTICO_PLUGIN(PostgresStorePlugin);
