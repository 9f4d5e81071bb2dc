// One SQLite connection (core/storage/sqlite_connection.hpp): the number reads the checkpoint
// thread makes every 100 ms (query_integer) answer as query() would, and say what is wrong when
// the statement answers no number.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/storage/sqlite_connection.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::storage::detail {
namespace {

using namespace std::chrono_literals;

class SqliteConnectionTest : public ::testing::Test {
 protected:
  test::TempDir dir;
  SqliteConnection connection{(dir / "one.db").string(), SqliteConnection::Mode::read_write,
                              1000ms};
};

std::string error_of(SqliteConnection& connection, std::string_view sql) {
  try {
    connection.query_integer(sql);
  } catch (const DatabaseError& error) {
    return error.what();
  }
  return "no error";
}

TEST_F(SqliteConnectionTest, QueryIntegerAnswersTheFirstColumnOfTheFirstRow) {
  connection.execute_script(
      "CREATE TABLE t(n INTEGER, s TEXT); INSERT INTO t VALUES (7, 'x');"
      "INSERT INTO t VALUES (9, 'y');");
  EXPECT_EQ(connection.query_integer("SELECT n FROM t ORDER BY n"), 7);
  EXPECT_EQ(connection.query_integer("SELECT count(*) FROM t"), 2);
  // Asked again (the statement is cached and reset), the answer follows the data.
  connection.execute("INSERT INTO t VALUES (?, 'z')", {std::int64_t{1}});
  EXPECT_EQ(connection.query_integer("SELECT count(*) FROM t"), 3);
  EXPECT_EQ(connection.query_integer("PRAGMA data_version"),
            connection.query("PRAGMA data_version", {}).at(0).integer(0));
  EXPECT_EQ(connection.query_integer("SELECT n, n * 10 FROM t ORDER BY n", 1), 10);
}

TEST_F(SqliteConnectionTest, QueryIntegerSaysWhenThereIsNoNumber) {
  connection.execute_script("CREATE TABLE t(n INTEGER, s TEXT); INSERT INTO t VALUES (NULL, 'x');");
  EXPECT_NE(error_of(connection, "SELECT n FROM t WHERE s = 'none'").find("no row from: SELECT n"),
            std::string::npos);
  EXPECT_NE(error_of(connection, "SELECT s FROM t").find("not an integer from: SELECT s"),
            std::string::npos);
  EXPECT_NE(error_of(connection, "SELECT n FROM t").find("not an integer"), std::string::npos);
  EXPECT_NE(error_of(connection, "SELECT n FROM missing").find("no such table"), std::string::npos);
  EXPECT_NE(
      error_of(connection, "SELECT n FROM t WHERE s = ?").find("expected 1 parameters, got 0"),
      std::string::npos);
  try {
    connection.query_integer("SELECT 1", 1);
    ADD_FAILURE() << "no column 1";
  } catch (const DatabaseError& error) {
    EXPECT_NE(std::string(error.what()).find("no column 1 from: SELECT 1"), std::string::npos);
  }
  // The connection is still usable after each.
  EXPECT_EQ(connection.query_integer("SELECT 41 + 1"), 42);
}

}  // namespace
}  // namespace portico::storage::detail
