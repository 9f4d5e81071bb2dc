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

// An event prepared before the transaction is stored as the same Standard Webhooks body, its
// object's text kept as the plugin wrote it (here in another member order than nlohmann's).
TEST_F(OutboxTest, APreparedEventIsStoredWithItsTextAsWritten) {
  const std::string object_text = R"({"id":"ord_1","status":"pending","items":[{"n":1}]})";
  const PreparedEvent created("order.created", "prt_1", "ord_1", object_text);
  const PreparedEvent changed("order.cancelled", "prt_1", "ord_1", object_text,
                              R"({"status":"pending"})");
  const PreparedEvent from_value(make_event("order.updated", "prt_1", "ord_1", {{"n", 1}}));
  std::string created_id, changed_id, value_id;
  db->transaction([&](Session& tx) {
    created_id = outbox_ptr->append(tx, created);
    changed_id = outbox_ptr->append(tx, changed);
    value_id = outbox_ptr->append(tx, from_value);
  });
  const auto events = outbox_ptr->read_after(0, 10);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].payload,
            R"({"api_version":"v1","created":"2026-11-26T10:00:00Z","data":{"object":)" +
                object_text + R"(},"id":")" + created_id + R"(","type":"order.created"})");
  EXPECT_EQ(events[1].payload,
            R"({"api_version":"v1","created":"2026-11-26T10:00:00Z","data":{"object":)" +
                object_text + R"(,"previous_attributes":{"status":"pending"}},"id":")" +
                changed_id + R"(","type":"order.cancelled"})");
  EXPECT_EQ(events[1].partner_id, "prt_1");
  EXPECT_EQ(events[1].subject, "ord_1");
  // Prepared from an Event: the bytes append(tx, Event) stores.
  const nlohmann::json expected = {{"id", value_id},
                                   {"type", "order.updated"},
                                   {"created", "2026-11-26T10:00:00Z"},
                                   {"api_version", "v1"},
                                   {"data", {{"object", {{"n", 1}}}}}};
  EXPECT_EQ(events[2].payload, expected.dump());
}

// What cannot be stored is refused when the event is made, naming it — never written into a body.
TEST(PreparedEvent, RefusesDataThatIsNotOneJsonObject) {
  const auto refusal = [](auto make) -> std::string {
    try {
      make();
    } catch (const std::invalid_argument& error) {
      return error.what();
    }
    return "accepted";
  };
  for (const std::string bad : {"", "   ", "[1,2]", "\"text\"", "42", "null", "{\"a\":1", "{} {}",
                                "{\"a\":1}x", "{\"a\":\"\xff\"}", "{\"a\":\"\xc3\"}", "{'a':1}"}) {
    EXPECT_EQ(refusal([&] { PreparedEvent("order.created", "p", "s", bad); }),
              "event order.created: data.object is not one JSON object in valid UTF-8")
        << bad;
    EXPECT_EQ(
        refusal([&] { PreparedEvent("order.created", "p", "s", "{}", bad.empty() ? "[]" : bad); }),
        "event order.created: data.previous_attributes is not one JSON object in valid UTF-8")
        << bad;
  }
  EXPECT_EQ(refusal([] { PreparedEvent("", "p", "s", "{}"); }), "an event needs a type");
  EXPECT_EQ(refusal([] { PreparedEvent(make_event("", "p", "s", nlohmann::json::object())); }),
            "an event needs a type");
  EXPECT_EQ(refusal([] {
              PreparedEvent(make_event("order.created", "p", "s", {{"bad", "\xff"}}));
            }).rfind("event order.created cannot be serialized: ", 0),
            0u);
  // Whitespace around one object is JSON too, and kept.
  EXPECT_EQ(PreparedEvent("t", "", "", " {\"a\": [1, {}]}\n").data_json(),
            "{\"object\": {\"a\": [1, {}]}\n}");
}

// An Outbox of a plugin's own that predates API 3.1 (only append(tx, Event)) still takes prepared
// events: the default hands them back as an Event with the same data.
TEST_F(OutboxTest, AnOutboxWithoutThePreparedAppendGetsTheEventBack) {
  class EventsOnly final : public Outbox {
   public:
    std::string append(Session&, const Event& event) override {
      seen.push_back(event);
      return "evt_test";
    }
    using Outbox::append;
    std::vector<StoredEvent> read_after(std::int64_t, int) override { return {}; }
    std::optional<StoredEvent> find(std::string_view) override { return std::nullopt; }
    std::vector<StoredEvent> feed(const EventFeedQuery&) override { return {}; }
    std::vector<Event> seen;
  } outbox;
  Outbox& as_outbox = outbox;
  EXPECT_EQ(as_outbox.append(*db, PreparedEvent("order.cancelled", "prt_1", "ord_1",
                                                R"({"id":"ord_1"})", R"({"status":"pending"})")),
            "evt_test");
  as_outbox.append(*db, PreparedEvent("order.created", "prt_1", "ord_2", R"({"id":"ord_2"})"));
  ASSERT_EQ(outbox.seen.size(), 2u);
  EXPECT_EQ(outbox.seen[0].type, "order.cancelled");
  EXPECT_EQ(outbox.seen[0].partner_id, "prt_1");
  EXPECT_EQ(outbox.seen[0].subject, "ord_1");
  EXPECT_EQ(outbox.seen[0].object, (nlohmann::json{{"id", "ord_1"}}));
  EXPECT_EQ(outbox.seen[0].previous_attributes, (nlohmann::json{{"status", "pending"}}));
  EXPECT_TRUE(outbox.seen[1].previous_attributes.is_null());
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
