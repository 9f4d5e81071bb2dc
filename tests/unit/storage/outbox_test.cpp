// The transactional outbox: events commit or roll back with the business change, and read back in
// order as Standard Webhooks bodies.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/storage/migrations.hpp"
#include "core/storage/outbox.hpp"
#include "core/storage/sqlite_database.hpp"
#include "core/util/time.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::storage {
namespace {

Event make_event(std::string type, std::string partner_id, std::string subject,
                 nlohmann::json object, nlohmann::json previous_attributes = nullptr) {
  Event event;
  event.type = std::move(type);
  event.partner_id = std::move(partner_id);
  event.subject = std::move(subject);
  event.object = std::move(object);
  event.previous_attributes = std::move(previous_attributes);
  return event;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db = open_sqlite({.path = (dir / "portico.db").string()});
    apply_migrations(*db, "core", core_migrations());
    db->execute("CREATE TABLE orders(id TEXT PRIMARY KEY, status TEXT NOT NULL)");
    outbox_ptr = std::make_shared<SqlOutbox>(db, [this] { return now; });
  }

  test::TempDir dir;
  std::shared_ptr<Database> db;
  std::chrono::system_clock::time_point now = *util::parse_rfc3339("2026-11-26T10:00:00Z");
  std::shared_ptr<SqlOutbox> outbox_ptr;
};

TEST_F(OutboxTest, RolledBackTransactionLeavesNoEvent) {
  EXPECT_THROW(db->transaction([&](Session& tx) {
    tx.execute("INSERT INTO orders VALUES ('ord_1', 'created')");
    outbox_ptr->append(tx, make_event("order.created", "prt_1", "ord_1", {{"id", "ord_1"}}));
    throw std::runtime_error("payment declined");
  }),
               std::runtime_error);
  EXPECT_TRUE(outbox_ptr->read_after(0, 100).empty());
  EXPECT_TRUE(db->query("SELECT * FROM orders").empty());
}

TEST_F(OutboxTest, CommittedEventsReadBackInOrderWithTheWebhookBody) {
  std::string created_id, changed_id;
  db->transaction([&](Session& tx) {
    tx.execute("INSERT INTO orders VALUES ('ord_1', 'created')");
    created_id = outbox_ptr->append(tx, make_event("order.created", "prt_1", "ord_1",
                                                   {{"id", "ord_1"}, {"status", "created"}}));
  });
  now += std::chrono::seconds(90);
  db->transaction([&](Session& tx) {
    tx.execute("UPDATE orders SET status = 'shipped' WHERE id = 'ord_1'");
    changed_id = outbox_ptr->append(
        tx, make_event("order.updated", "prt_1", "ord_1", {{"id", "ord_1"}, {"status", "shipped"}},
                       {{"status", "created"}}));
  });
  EXPECT_EQ(created_id.rfind("evt_", 0), 0u);
  EXPECT_NE(created_id, changed_id);

  auto events = outbox_ptr->read_after(0, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_LT(events[0].sequence, events[1].sequence);
  EXPECT_EQ(events[0].id, created_id);
  EXPECT_EQ(events[0].type, "order.created");
  EXPECT_EQ(events[0].partner_id, "prt_1");
  EXPECT_EQ(events[0].subject, "ord_1");
  EXPECT_EQ(events[0].created_at, "2026-11-26T10:00:00Z");
  EXPECT_EQ(nlohmann::json::parse(events[0].payload), nlohmann::json::parse(R"({
    "id": ")" + created_id + R"(",
    "type": "order.created",
    "created": "2026-11-26T10:00:00Z",
    "api_version": "v1",
    "data": {"object": {"id": "ord_1", "status": "created"}}
  })"));
  EXPECT_EQ(nlohmann::json::parse(events[1].payload), nlohmann::json::parse(R"({
    "id": ")" + changed_id + R"(",
    "type": "order.updated",
    "created": "2026-11-26T10:01:30Z",
    "api_version": "v1",
    "data": {"object": {"id": "ord_1", "status": "shipped"},
             "previous_attributes": {"status": "created"}}
  })"));

  // Reading after a cursor, with a limit.
  auto after_first = outbox_ptr->read_after(events[0].sequence, 10);
  ASSERT_EQ(after_first.size(), 1u);
  EXPECT_EQ(after_first[0].id, changed_id);
  EXPECT_EQ(outbox_ptr->read_after(0, 1).size(), 1u);
  EXPECT_TRUE(outbox_ptr->read_after(events[1].sequence, 10).empty());
  EXPECT_TRUE(outbox_ptr->read_after(0, 0).empty());
}

// The payload is written field by field; its bytes are exactly the document's dump (sorted keys,
// strings escaped), with and without previous_attributes, and bad UTF-8 fails the transaction.
TEST_F(OutboxTest, ThePayloadIsExactlyTheDocumentsCompactDump) {
  const nlohmann::json object = {{"id", "ord_\"1\""}, {"note", "caf\u00e9 \n"}, {"n", 3}};
  const nlohmann::json previous = {{"status", "pending"}};
  std::string plain_id, changed_id;
  db->transaction([&](Session& tx) {
    plain_id = outbox_ptr->append(tx, make_event("order.created", "prt_1", "o", object));
    changed_id = outbox_ptr->append(tx, make_event("order.updated", "prt_1", "o", object, previous));
  });
  auto events = outbox_ptr->read_after(0, 10);
  ASSERT_EQ(events.size(), 2u);
  const nlohmann::json expected_plain = {{"id", plain_id},
                                         {"type", "order.created"},
                                         {"created", "2026-11-26T10:00:00Z"},
                                         {"api_version", "v1"},
                                         {"data", {{"object", object}}}};
  const nlohmann::json expected_changed = {
      {"id", changed_id},
      {"type", "order.updated"},
      {"created", "2026-11-26T10:00:00Z"},
      {"api_version", "v1"},
      {"data", {{"object", object}, {"previous_attributes", previous}}}};
  EXPECT_EQ(events[0].payload, expected_plain.dump());
  EXPECT_EQ(events[1].payload, expected_changed.dump());

  // A type that needs escaping goes through nlohmann like the object (the id and time never do).
  const std::string odd_type = "odd.\"type\"\n\u00e9";
  std::string odd_id;
  db->transaction([&](Session& tx) {
    odd_id = outbox_ptr->append(tx, make_event(odd_type, "prt_1", "o", object));
  });
  const nlohmann::json expected_odd = {{"id", odd_id},
                                       {"type", odd_type},
                                       {"created", "2026-11-26T10:00:00Z"},
                                       {"api_version", "v1"},
                                       {"data", {{"object", object}}}};
  events = outbox_ptr->read_after(0, 10);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].payload, expected_odd.dump());

  EXPECT_THROW(db->transaction([&](Session& tx) {
    outbox_ptr->append(tx, make_event("order.created", "prt_1", "o", {{"bad", "\xff"}}));
  }),
               DatabaseError);
  EXPECT_EQ(outbox_ptr->read_after(0, 10).size(), 3u);
}

TEST_F(OutboxTest, CatalogEventsHaveEmptyPartnerAndSubject) {
  db->transaction([&](Session& tx) {
    outbox_ptr->append(tx,
                       make_event("inventory.changed", "", "", {{"sku", "A-1"}, {"on_hand", 4}}));
  });
  auto events = outbox_ptr->read_after(0, 10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].partner_id, "");
  EXPECT_EQ(events[0].subject, "");
  EXPECT_FALSE(nlohmann::json::parse(events[0].payload)["data"].contains("previous_attributes"));
}

TEST_F(OutboxTest, FindsOneEventById) {
  std::string id;
  db->transaction([&](Session& tx) {
    id = outbox_ptr->append(tx, make_event("order.created", "prt_1", "ord_1", {{"id", "ord_1"}}));
  });
  auto found = outbox_ptr->find(id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->type, "order.created");
  EXPECT_EQ(nlohmann::json::parse(found->payload)["id"], id);
  EXPECT_FALSE(outbox_ptr->find("evt_missing"));
}

TEST_F(OutboxTest, AFeedShowsAPartnersOwnAndCatalogEventsNewestFirst) {
  db->transaction([&](Session& tx) {
    outbox_ptr->append(tx, make_event("order.created", "prt_1", "ord_1", {{"id", "ord_1"}}));
    outbox_ptr->append(tx, make_event("order.created", "prt_2", "ord_2", {{"id", "ord_2"}}));
  });
  now += std::chrono::hours(1);
  db->transaction([&](Session& tx) {
    outbox_ptr->append(tx, make_event("inventory.changed", "", "prod_1", {{"available", 1}}));
    outbox_ptr->append(tx, make_event("order.cancelled", "prt_1", "ord_1", {{"id", "ord_1"}}));
  });

  auto feed = outbox_ptr->feed({.partner_id = "prt_1"});
  ASSERT_EQ(feed.size(), 3u);  // never prt_2's
  EXPECT_EQ(feed[0].type, "order.cancelled");
  EXPECT_EQ(feed[1].type, "inventory.changed");
  EXPECT_EQ(feed[2].type, "order.created");

  auto page = outbox_ptr->feed({.partner_id = "prt_1", .before_sequence = feed[1].sequence});
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].subject, "ord_1");

  auto typed =
      outbox_ptr->feed({.partner_id = "prt_1", .types = {"order.created", "order.cancelled"}});
  EXPECT_EQ(typed.size(), 2u);
  auto recent = outbox_ptr->feed({.partner_id = "prt_1", .created_since = "2026-11-26T10:30:00Z"});
  EXPECT_EQ(recent.size(), 2u);
  EXPECT_EQ(outbox_ptr->feed({.partner_id = "prt_1", .limit = 1}).size(), 1u);
  EXPECT_TRUE(outbox_ptr->feed({.partner_id = "prt_3", .types = {"order.created"}}).empty());
}

}  // namespace
}  // namespace portico::storage
