// A real cluster on loopback: PostgreSQL 15 (its own initdb), Redis, three gateway nodes on
// configs/cluster.toml (store_postgres, ratelimit_redis) and haproxy round-robin in front — all
// started here and stopped at the end. What must hold across nodes (docs/cluster.md):
//  - a tier limit is exact: 300 requests spread over the three nodes → exactly 100 allowed;
//  - stock never oversells: concurrent orders on every node for 50 units → exactly 50 reserved,
//    and every 201 is in the database;
//  - a revoked key is refused by every node within 1 s;
//  - webhooks: 1,000 events delivered exactly once while all nodes run; a node killed with -9 in
//    the middle of a burst of orders loses no acknowledged order and no event (duplicates counted
//    and bounded by what the dead node had on the wire).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pg_database.hpp"
#include "tests/integration/orders_helpers.hpp"
#include "tests/integration/products_helpers.hpp"
#include "tests/integration/webhook_receiver.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/redis_server.hpp"

namespace portico::test {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;
namespace fs = std::filesystem;

bool have(const char* tool) {
  return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// haproxy in front of the nodes: round-robin, health-checked on each node's admin /readyz, a
// request that cannot reach a node sent to the next one.
class Haproxy {
 public:
  // `nodes`: each node's partner port and admin port.
  Haproxy(const fs::path& dir, const std::vector<std::pair<std::uint16_t, std::uint16_t>>& nodes)
      : port_(free_port()) {
    const fs::path config = dir / "haproxy.cfg";
    std::ofstream out(config);
    out << "global\n  maxconn 4096\n"
        << "defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n"
        << "  timeout server 30s\n  retries 3\n  option redispatch\n"
        << "frontend partners\n  bind 127.0.0.1:" << port_ << "\n  default_backend nodes\n"
        << "backend nodes\n  balance roundrobin\n  option forwardfor\n"
        << "  option httpchk\n"
        << "  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost\n"
        << "  http-check expect status 200\n"
        << "  default-server inter 200ms fall 2 rise 2\n";
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      out << "  server node" << i + 1 << " 127.0.0.1:" << nodes[i].first << " check port "
          << nodes[i].second << "\n";
    }
    out.close();
    log_ = dir / "haproxy.log";
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execlp("haproxy", "haproxy", "-f", config.c_str(), "-db", static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!answers()) {
      if (Clock::now() > deadline) {
        stop();  // no destructor runs for a constructor that throws
        throw std::runtime_error("haproxy did not start: see " + log_.string());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Haproxy() { stop(); }
  Haproxy(const Haproxy&) = delete;
  Haproxy& operator=(const Haproxy&) = delete;

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200 && waitpid(pid_, &status, WNOHANG) != pid_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (i == 199) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
    pid_ = -1;
  }
  std::uint16_t port() const { return port_; }

 private:
  bool answers() const {
    try {
      return http_request(port_, "GET", "/healthz").status == 200;
    } catch (const std::exception&) {
      return false;  // not listening yet
    }
  }

  std::uint16_t port_;
  fs::path log_;
  pid_t pid_ = -1;
};

struct Node {
  std::uint16_t port = free_port();
  std::uint16_t admin_port = free_port();
  fs::path log_dir;
  std::unique_ptr<PorticoProcess> process;
};

class Cluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PostgresServer::available() || !RedisServer::available() || !have("haproxy")) return;
    try {
      start();
    } catch (const std::exception& e) {
      setup_error = e.what();
    }
  }

  static void start() {
    dir = std::make_unique<TempDir>();
    postgres = std::make_unique<PostgresServer>();
    postgres->start();
    database_url = postgres->create_database("cluster");
    redis = std::make_unique<RedisServer>();
    redis->start();
    nodes.resize(3);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      Node& node = nodes[i];
      node.log_dir = dir->path() / ("node" + std::to_string(i + 1));
      const std::vector<std::string> args{
          "-c", std::string(PORTICO_SOURCE_DIR) + "/configs/cluster.toml",
          "--set", "server.listen=127.0.0.1:" + std::to_string(node.port),
          "--set", "admin.listen=127.0.0.1:" + std::to_string(node.admin_port),
          "--set", "admin.token=test-admin-token",
          "--set", "storage.url=\"" + database_url + "\"",
          "--set", "plugins.ratelimit_redis.url=\"" + redis->url() + "\"",
          "--set", "security.data_key_file=\"" + (dir->path() / "data.key").string() + "\"",
          "--set", "logging.dir=\"" + node.log_dir.string() + "\"",
          "--set", "plugins.dir=\"" + std::string(PORTICO_PLUGIN_DIR) + "\"",
          "--set", "security.client_ip_limit=1000000000",
          "--set", "security.auth_failure_limit=1000000",
          "--set", "plugins.webhook_delivery.poll_interval=20ms",
          "--set", "plugins.webhook_delivery.lease=2s"};
      // The first node migrates the database and makes the data key; the others find both.
      node.process = std::make_unique<PorticoProcess>(args, dir->path());
      node.process->wait_ready(node.port, std::chrono::seconds(30));
    }
    std::vector<std::pair<std::uint16_t, std::uint16_t>> ports;
    for (const Node& node : nodes) ports.emplace_back(node.port, node.admin_port);
    haproxy = std::make_unique<Haproxy>(dir->path(), ports);
    db = store_postgres::open_postgres({.conninfo = database_url});
  }

  static void TearDownTestSuite() {
    db.reset();
    haproxy.reset();
    nodes.clear();
    redis.reset();
    postgres.reset();
    dir.reset();
  }

  void SetUp() override {
    if (!setup_error.empty()) FAIL() << "the cluster did not start: " << setup_error;
    if (!haproxy) {
      GTEST_SKIP() << "needs PostgreSQL 15, redis-server and haproxy (packaging/dev.sh installs "
                      "them)";
    }
  }

  // The admin API of node 1 (one for the suite: it numbers the partners it names).
  static products::Admin& admin() {
    static products::Admin admin{nodes[0].admin_port};
    return admin;
  }

  static HttpResponse through_haproxy(const std::string& method, const std::string& target,
                                      const std::string& key, const std::string& body = "",
                                      Headers extra = {}) {
    Headers headers{{"X-API-Key", key}};
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    for (auto& h : extra) headers.push_back(std::move(h));
    return http_request(haproxy->port(), method, target, headers, body);
  }

  // An order through haproxy as a careful partner places it: the same Idempotency-Key again when
  // the answer is not a final one (a node went away under the request). The final answer.
  static HttpResponse order(const std::string& key, const std::string& idempotency_key,
                            const json& body) {
    HttpResponse res;
    for (int attempt = 0; attempt < 10; ++attempt) {
      res = through_haproxy("POST", "/v1/orders", key, body.dump(),
                            {{"Idempotency-Key", idempotency_key}});
      if (res.status != 0 && res.status != 502 && res.status != 503 && res.status != 504) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return res;
  }

  // Requests in a node's access log whose line holds `needle`.
  static int logged(const Node& node, const std::string& needle) {
    int count = 0;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(node.log_dir, error)) {
      if (!entry.path().filename().string().starts_with("access-")) continue;
      std::ifstream in(entry.path());
      for (std::string line; std::getline(in, line);) count += line.find(needle) != std::string::npos;
    }
    return count;
  }

  static std::set<std::string> column(const std::string& sql) {
    std::set<std::string> values;
    for (const Row& row : db->query(sql)) values.insert(row.text(0));
    return values;
  }

  static inline std::string setup_error;
  static inline std::unique_ptr<TempDir> dir;
  static inline std::unique_ptr<PostgresServer> postgres;
  static inline std::unique_ptr<RedisServer> redis;
  static inline std::string database_url;
  static inline std::vector<Node> nodes;
  static inline std::unique_ptr<Haproxy> haproxy;
  static inline std::shared_ptr<Database> db;
};

TEST_F(Cluster, ATierLimitIsExactAcrossTheNodes) {
  auto& a = admin();
  const std::string key = a.key(a.partner("basic"));
  // Every node knows the key before the count starts (each follows the directory within 1 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  std::map<int, int> statuses;
  std::vector<std::thread> clients;
  std::mutex mutex;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const int status = through_haproxy("GET", "/v1/products?limit=1", key).status;
        std::lock_guard lock(mutex);
        ++statuses[status];
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(statuses[200], 100);
  EXPECT_EQ(statuses[429], 200);
  std::printf("300 requests over 3 nodes: %d allowed, %d refused (429)\n", statuses[200],
              statuses[429]);
  // Spread over all three (each node's access log has its share).
  for (const Node& node : nodes) {
    int seen = 0;
    for (int wait = 0; wait < 100 && (seen = logged(node, "\"path\":\"/v1/products\"")) == 0;
         ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::string files;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(node.log_dir, error)) {
      files += " " + entry.path().filename().string();
    }
    EXPECT_GT(seen, 0) << "node on " << node.port << " served none of them; " << node.log_dir
                       << " holds" << files;
  }
}

TEST_F(Cluster, ConcurrentOrdersOnEveryNodeNeverOversell) {
  auto& a = admin();
  const std::string key = a.key(a.partner("premium"));
  a.import(json::array({orders::stocked("prod_last50", 1000, {{"icn-1", 30}, {"pus-1", 20}})}));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  // 12 buyers, four on each node directly, 8 orders of one unit each: 96 for 50 units.
  std::vector<std::string> created;
  std::map<std::string, int> refusals;
  std::mutex mutex;
  std::vector<std::thread> buyers;
  for (int b = 0; b < 12; ++b) {
    buyers.emplace_back([&, b] {
      const Node& node = nodes[static_cast<std::size_t>(b % 3)];
      for (int i = 0; i < 8; ++i) {
        const auto res = http_request(
            node.port, "POST", "/v1/orders",
            {{"X-API-Key", key},
             {"Content-Type", "application/json"},
             {"Idempotency-Key", "buyer-" + std::to_string(b) + "-" + std::to_string(i)}},
            orders::order_body({{"prod_last50", 1}}).dump());
        std::lock_guard lock(mutex);
        if (res.status == 201) {
          created.push_back(json::parse(res.body)["id"]);
        } else {
          ++refusals[std::to_string(res.status) + " " + orders::code_of(res)];
        }
      }
    });
  }
  for (auto& b : buyers) b.join();
  EXPECT_EQ(created.size(), 50u);
  EXPECT_EQ(refusals["409 insufficient_inventory"], 46) << "other refusals in the map";
  const Rows stock = db->query(
      "SELECT sum(available), sum(reserved) FROM stock WHERE product_id = 'prod_last50'");
  EXPECT_EQ(stock.at(0).integer(0), 0);
  EXPECT_EQ(stock.at(0).integer(1), 50);
  const std::set<std::string> stored =
      column("SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id"
             " WHERE i.product_id = 'prod_last50'");
  for (const auto& id : created) EXPECT_TRUE(stored.contains(id)) << id << " answered 201, not stored";
  EXPECT_EQ(stored.size(), 50u);
  std::printf("96 orders for 50 units on 3 nodes: %zu created, %d refused 409\n", created.size(),
              refusals["409 insufficient_inventory"]);
}

TEST_F(Cluster, ARevokedKeyIsRefusedByEveryNodeWithinASecond) {
  auto& a = admin();
  const std::string partner = a.partner("premium");
  const std::string key = a.key(partner);
  for (const Node& node : nodes) {
    const auto start = Clock::now();
    while (http_request(node.port, "GET", "/v1/products?limit=1", {{"X-API-Key", key}}).status !=
           200) {
      ASSERT_LT(Clock::now() - start, std::chrono::seconds(2)) << "node " << node.port;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  const std::string key_id =
      json::parse(a.send("GET", "/partners/" + partner + "/keys", "").body)["data"][0]["id"];
  ASSERT_LT(a.send("DELETE", "/partners/" + partner + "/keys/" + key_id, "").status, 300);
  const auto revoked = Clock::now();
  std::vector<long long> after;
  for (const Node& node : nodes) {
    while (http_request(node.port, "GET", "/v1/products?limit=1", {{"X-API-Key", key}}).status !=
           401) {
      ASSERT_LT(Clock::now() - revoked, std::chrono::seconds(3)) << "node " << node.port;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    after.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - revoked)
                        .count());
  }
  for (long long ms : after) EXPECT_LE(ms, 1000);
  std::printf("key revoked: refused by the 3 nodes after %lld, %lld, %lld ms\n", after[0],
              after[1], after[2]);
}

// Last: it kills a node.
TEST_F(Cluster, WebhooksAreDeliveredOnceAndSurviveANodeKilledMidBurst) {
  receiver::Receiver receiver;
  receiver.set_hang(false);
  auto& a = admin();
  const std::string key =
      a.key(a.partner("premium", {{"rate_limit_override", 1000000000}}));
  a.import(json::array({orders::stocked("prod_many", 1000, {{"icn-1", 1000000}})}));
  auto res = http_request(nodes[0].port, "POST", "/v1/webhooks",
                          {{"X-API-Key", key}, {"Content-Type", "application/json"}},
                          json{{"url", receiver.url()}, {"events", {"order.created"}}}.dump());
  ASSERT_EQ(res.status, 201) << res.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));

  // Orders through haproxy from 8 clients; the ids of those answered 201.
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<int> failed{0};
  std::string first_failure;
  auto burst = [&](int first, int count, const std::function<void(int)>& after_each) {
    std::atomic<int> next{first};
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t) {
      clients.emplace_back([&] {
        for (int n; (n = next++) < first + count;) {
          const auto res = order(key, "burst-" + std::to_string(n),
                                 orders::order_body({{"prod_many", 1}}));
          if (res.status == 201) {
            std::lock_guard lock(mutex);
            acknowledged.insert(json::parse(res.body)["id"].get<std::string>());
          } else if (failed++ == 0) {
            std::lock_guard lock(mutex);
            first_failure = std::to_string(res.status) + " " + res.body;
          }
          after_each(n - first);
        }
      });
    }
    for (auto& c : clients) c.join();
  };
  auto distinct = [](const std::vector<receiver::Received>& rs) {
    std::set<std::string> ids;
    for (const auto& r : rs) ids.insert(r.id);
    return ids.size();
  };

  // 1,000 events while the three nodes run: each exactly once.
  burst(0, 1000, [](int) {});
  ASSERT_EQ(acknowledged.size(), 1000u) << failed << " orders failed, the first: " << first_failure;
  ASSERT_TRUE(receiver.wait_for([&](const auto& rs) { return distinct(rs) >= 1000; },
                                std::chrono::seconds(60)))
      << distinct(receiver.requests()) << " of 1,000 events arrived within 60 s";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a doubled one arrives too
  EXPECT_EQ(receiver.requests().size(), 1000u) << "events delivered more than once";
  std::printf("3 nodes up: 1000 orders, %zu deliveries of %zu events\n",
              receiver.requests().size(), distinct(receiver.requests()));

  // 1,000 more; node 3 is killed with -9 after 300 of them were answered.
  std::atomic<bool> killed{false};
  burst(1000, 1000, [&](int done) {
    if (done >= 300 && !killed.exchange(true)) nodes[2].process->signal(SIGKILL);
  });
  // No acknowledged order lost.
  const std::set<std::string> stored = column(
      "SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id"
      " WHERE i.product_id = 'prod_many'");
  for (const auto& id : acknowledged) EXPECT_TRUE(stored.contains(id)) << id << " lost";
  // Every order's event delivered (the stored ones: some the killed node committed but could
  // not answer are there too).
  ASSERT_TRUE(receiver.wait_for([&](const auto& rs) { return distinct(rs) >= stored.size(); },
                                std::chrono::seconds(60)))
      << distinct(receiver.requests()) << " of " << stored.size() << " events within 60 s";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::map<std::string, int> counts;
  for (const auto& r : receiver.requests()) ++counts[r.id];
  int duplicates = 0;
  for (const auto& [id, n] : counts) duplicates += n - 1;
  std::printf("kill -9 of 1 of 3 nodes mid-burst: %zu acknowledged, %zu stored, %zu events "
              "delivered, %d twice, %d orders without a final answer\n",
              acknowledged.size(), stored.size(), counts.size(), duplicates, failed.load());
  EXPECT_EQ(counts.size(), stored.size());
  // What the killed node had on the wire (max_in_flight_per_endpoint, 8) at most goes twice.
  EXPECT_LE(duplicates, 8);
}

}  // namespace
}  // namespace portico::test
