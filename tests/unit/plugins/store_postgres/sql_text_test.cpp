// What the PostgreSQL store does to a plugin's SQL before PostgreSQL sees it
// (plugins/store_postgres/sql_text.hpp): `?` → `$n` outside literals, identifiers, comments and
// dollar-quoted bodies; the portable column types in CREATE TABLE / ALTER TABLE only; scripts split
// at top-level semicolons. Pure text functions: no server needed.
#include "sql_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace portico::store_postgres {
namespace {

std::string sql_of(std::string_view sql) {
  return translate(sql).sql;
}
int placeholders_of(std::string_view sql) {
  return translate(sql).placeholders;
}

std::vector<std::string> split(std::string_view script) {
  std::vector<std::string> out;
  for (std::string_view statement : split_statements(script)) out.emplace_back(statement);
  return out;
}

// ---- placeholders -------------------------------------------------------------------------------

TEST(SqlTranslate, QuestionMarksBecomeNumberedParameters) {
  const Translated t = translate("SELECT * FROM t WHERE a = ? AND b > ? OR c IN (?, ?)");
  EXPECT_EQ(t.sql, "SELECT * FROM t WHERE a = $1 AND b > $2 OR c IN ($3, $4)");
  EXPECT_EQ(t.placeholders, 4);
}

TEST(SqlTranslate, PlaceholdersNextToWordsAndPunctuation) {
  const Translated t = translate("INSERT INTO t(a,b)VALUES(?,?)");
  EXPECT_EQ(t.sql, "INSERT INTO t(a,b)VALUES($1,$2)");
  EXPECT_EQ(t.placeholders, 2);
  EXPECT_EQ(sql_of("SELECT ?::bigint+?"), "SELECT $1::bigint+$2");
  EXPECT_EQ(sql_of("?"), "$1");
}

TEST(SqlTranslate, TenOrMorePlaceholdersAreNumberedInOrder) {
  std::string sql = "VALUES (";
  std::string expected = "VALUES (";
  for (int i = 1; i <= 12; ++i) {
    sql += i == 1 ? "?" : ", ?";
    expected += (i == 1 ? "$" : ", $") + std::to_string(i);
  }
  sql += ")";
  expected += ")";
  const Translated t = translate(sql);
  EXPECT_EQ(t.sql, expected);
  EXPECT_EQ(t.placeholders, 12);
}

TEST(SqlTranslate, NothingToTranslateIsLeftAsWritten) {
  const std::string sql = "SELECT id, name FROM partners WHERE status = 'active' ORDER BY id";
  const Translated t = translate(sql);
  EXPECT_EQ(t.sql, sql);
  EXPECT_EQ(t.placeholders, 0);
  EXPECT_EQ(sql_of(""), "");
  EXPECT_EQ(placeholders_of(""), 0);
}

TEST(SqlTranslate, QuestionMarkInsideStringLiteralIsKept) {
  const Translated t = translate("SELECT '?', ? FROM t WHERE note = 'why? because?'");
  EXPECT_EQ(t.sql, "SELECT '?', $1 FROM t WHERE note = 'why? because?'");
  EXPECT_EQ(t.placeholders, 1);
}

TEST(SqlTranslate, DoubledQuoteInsideStringLiteralDoesNotEndIt) {
  const Translated t = translate("SELECT 'it''s ? here', ?, '''?''', ''");
  EXPECT_EQ(t.sql, "SELECT 'it''s ? here', $1, '''?''', ''");
  EXPECT_EQ(t.placeholders, 1);
}

TEST(SqlTranslate, QuestionMarkInsideQuotedIdentifierIsKept) {
  const Translated t = translate(R"(SELECT "what?", "a""?b" FROM "t?" WHERE x = ?)");
  EXPECT_EQ(t.sql, R"(SELECT "what?", "a""?b" FROM "t?" WHERE x = $1)");
  EXPECT_EQ(t.placeholders, 1);
}

TEST(SqlTranslate, QuestionMarkInsideLineCommentIsKept) {
  const Translated t = translate("SELECT ? -- and ? here\n, ? -- last?");
  EXPECT_EQ(t.sql, "SELECT $1 -- and ? here\n, $2 -- last?");
  EXPECT_EQ(t.placeholders, 2);
}

TEST(SqlTranslate, QuestionMarkInsideNestedBlockCommentIsKept) {
  const Translated t = translate("SELECT ? /* outer ? /* inner ? */ still outer ? */ , ?");
  EXPECT_EQ(t.sql, "SELECT $1 /* outer ? /* inner ? */ still outer ? */ , $2");
  EXPECT_EQ(t.placeholders, 2);
}

TEST(SqlTranslate, QuestionMarkInsideDollarQuotedBodyIsKept) {
  const Translated t = translate("SELECT $$ a ? b $$, ?");
  EXPECT_EQ(t.sql, "SELECT $$ a ? b $$, $1");
  EXPECT_EQ(t.placeholders, 1);
}

TEST(SqlTranslate, TaggedDollarQuoteEndsOnlyAtItsOwnTag) {
  // $$ and $other$ inside $tag$ … $tag$ are part of the body.
  const Translated t = translate("SELECT $tag$ ? $$ ? $other$ ? $tag$, ?, $_x1$?$_x1$");
  EXPECT_EQ(t.sql, "SELECT $tag$ ? $$ ? $other$ ? $tag$, $1, $_x1$?$_x1$");
  EXPECT_EQ(t.placeholders, 1);
}

TEST(SqlTranslate, QuotesInsideOtherSpansDoNotOpenSpans) {
  // A quote inside a comment, a comment opener inside a literal, a quote inside a dollar body.
  const Translated t =
      translate("SELECT ? /* it's */, '-- not a comment ?', \"/*\", $$ ' $$, ? -- don't\n, ?");
  EXPECT_EQ(t.sql,
            "SELECT $1 /* it's */, '-- not a comment ?', \"/*\", $$ ' $$, $2 -- don't\n, $3");
  EXPECT_EQ(t.placeholders, 3);
}

TEST(SqlTranslate, NumberedParametersAreLeftAlone) {
  const Translated t = translate("SELECT * FROM t WHERE a = $1 AND b = $2 OR c = $10");
  EXPECT_EQ(t.sql, "SELECT * FROM t WHERE a = $1 AND b = $2 OR c = $10");
  EXPECT_EQ(t.placeholders, 0);
}

TEST(SqlTranslate, DollarInsideIdentifierIsNeitherParameterNorQuote) {
  // PostgreSQL identifiers may contain '$' after the first character.
  const Translated t = translate("SELECT a$1, b$x$ FROM t WHERE c = ?");
  EXPECT_EQ(t.sql, "SELECT a$1, b$x$ FROM t WHERE c = $1");
  EXPECT_EQ(t.placeholders, 1);
}

TEST(SqlTranslate, MixingQuestionMarksAndNumberedParametersIsRefused) {
  EXPECT_THROW(translate("SELECT $1, ?"), SqlTextError);
  EXPECT_THROW(translate("SELECT ?, $1"), SqlTextError);
  EXPECT_THROW(translate("UPDATE t SET a = ? WHERE id = $2"), SqlTextError);
  // Not mixed: a `$1` inside a literal, comment or body is not a parameter.
  EXPECT_EQ(sql_of("SELECT '$1', ? /* $2 */, $$ $3 $$"), "SELECT '$1', $1 /* $2 */, $$ $3 $$");
  // Not mixed: a `?` inside a literal next to a real $n.
  EXPECT_EQ(sql_of("SELECT '?', $1"), "SELECT '?', $1");
}

TEST(SqlTranslate, MixingErrorSaysWhy) {
  try {
    translate("SELECT $1, ?");
    FAIL() << "no SqlTextError";
  } catch (const SqlTextError& e) {
    EXPECT_NE(std::string(e.what()).find("$n"), std::string::npos) << e.what();
  }
}

TEST(SqlTranslate, UnterminatedSpansAreRefused) {
  EXPECT_THROW(translate("SELECT 'abc"), SqlTextError);
  EXPECT_THROW(translate("SELECT 'it''s"), SqlTextError);
  EXPECT_THROW(translate("SELECT 'x''"), SqlTextError);
  EXPECT_EQ(sql_of("SELECT 'x''', ?"), "SELECT 'x''', $1");  // '' then the closing quote
  EXPECT_THROW(translate("SELECT \"col"), SqlTextError);
  EXPECT_THROW(translate("SELECT 1 /* open"), SqlTextError);
  EXPECT_THROW(translate("SELECT 1 /* outer /* inner */ outer still open"), SqlTextError);
  EXPECT_THROW(translate("SELECT 1 /*/"), SqlTextError);
  EXPECT_THROW(translate("SELECT $$ body"), SqlTextError);
  EXPECT_THROW(translate("SELECT $tag$ body $$"), SqlTextError);
  EXPECT_THROW(translate("SELECT $tag$ body $TAG$"), SqlTextError);  // tags are case-sensitive
}

TEST(SqlTranslate, UnterminatedSpanErrorsNameWhatIsOpen) {
  const auto message = [](std::string_view sql) -> std::string {
    try {
      translate(sql);
    } catch (const SqlTextError& e) {
      return e.what();
    }
    return "(accepted)";
  };
  EXPECT_NE(message("SELECT 'x").find("string literal"), std::string::npos);
  EXPECT_NE(message("SELECT \"x").find("identifier"), std::string::npos);
  EXPECT_NE(message("SELECT /* x").find("comment"), std::string::npos);
  EXPECT_NE(message("SELECT $q$ x").find("dollar"), std::string::npos);
}

TEST(SqlTranslate, LineCommentWithoutNewlineAtTheEndIsTerminated) {
  EXPECT_EQ(sql_of("SELECT ? -- trailing ' \" /* $$"), "SELECT $1 -- trailing ' \" /* $$");
}

TEST(SqlTranslate, LoneDollarAndSingleDashAreNotSpans) {
  EXPECT_EQ(sql_of("SELECT 5 - ?, 6 / ?, '$' || ?"), "SELECT 5 - $1, 6 / $2, '$' || $3");
}

// ---- DDL ----------------------------------------------------------------------------------------

TEST(SqlTranslateDdl, PortableColumnTypesTakeTheirPostgresSpelling) {
  EXPECT_EQ(sql_of("CREATE TABLE t (a INTEGER, b REAL, c TEXT, d BLOB)"),
            "CREATE TABLE t (a BIGINT, b DOUBLE PRECISION, c BYTEA, d BYTEA)");
}

TEST(SqlTranslateDdl, TypeNamesAreMatchedWithoutRegardToCase) {
  EXPECT_EQ(sql_of("create table t (a integer, b Real, c text, d bLoB)"),
            "create table t (a BIGINT, b DOUBLE PRECISION, c BYTEA, d BYTEA)");
}

TEST(SqlTranslateDdl, ConstraintsAndDefaultsAroundTypesAreKept) {
  EXPECT_EQ(sql_of("CREATE TABLE t (\n"
                   "  id TEXT PRIMARY KEY,\n"
                   "  n INTEGER NOT NULL DEFAULT 0 CHECK (n >= 0),\n"
                   "  ref TEXT REFERENCES other(id)\n"
                   ")"),
            "CREATE TABLE t (\n"
            "  id BYTEA PRIMARY KEY,\n"
            "  n BIGINT NOT NULL DEFAULT 0 CHECK (n >= 0),\n"
            "  ref BYTEA REFERENCES other(id)\n"
            ")");
}

TEST(SqlTranslateDdl, IntegerPrimaryKeyBecomesAnIdentity) {
  EXPECT_EQ(sql_of("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"),
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v BYTEA)");
  EXPECT_EQ(sql_of("CREATE TABLE t (id integer   primary\n  key)"),
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY   primary\n  key)");
}

TEST(SqlTranslateDdl, IntegerPrimaryKeyIsFoundAcrossComments) {
  EXPECT_EQ(sql_of("CREATE TABLE t (id INTEGER /* the key */ PRIMARY -- yes\n KEY)"),
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY /* the key */ PRIMARY -- "
            "yes\n KEY)");
}

TEST(SqlTranslateDdl, IntegerNotFollowedByPrimaryKeyIsPlainBigint) {
  EXPECT_EQ(sql_of("CREATE TABLE t (a INTEGER PRIMARYX, b INTEGER UNIQUE, c INTEGER PRIMARY)"),
            "CREATE TABLE t (a BIGINT PRIMARYX, b BIGINT UNIQUE, c BIGINT PRIMARY)");
  // A table-level key over an INTEGER column is no identity: SQLite makes none either.
  EXPECT_EQ(sql_of("CREATE TABLE t (a INTEGER, b TEXT, PRIMARY KEY (a, b))"),
            "CREATE TABLE t (a BIGINT, b BYTEA, PRIMARY KEY (a, b))");
}

TEST(SqlTranslateDdl, AutoincrementIsDropped) {
  EXPECT_EQ(sql_of("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)"),
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY , v BYTEA)");
  EXPECT_EQ(sql_of("CREATE TABLE t (id integer primary key autoincrement)"),
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY primary key )");
}

TEST(SqlTranslateDdl, WithoutRowidIsDropped) {
  EXPECT_EQ(sql_of("CREATE TABLE t (a TEXT, b TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID"),
            "CREATE TABLE t (a BYTEA, b BYTEA, PRIMARY KEY (a, b))  ");
  EXPECT_EQ(sql_of("CREATE TABLE t (a TEXT PRIMARY KEY) without /* c */ rowid"),
            "CREATE TABLE t (a BYTEA PRIMARY KEY)  /* c */ ");
}

TEST(SqlTranslateDdl, WithoutAloneAndRowidAloneAreKept) {
  // Only the pair is SQLite's table option.
  EXPECT_EQ(sql_of("CREATE TABLE t (rowid INTEGER, without_x TEXT)"),
            "CREATE TABLE t (rowid BIGINT, without_x BYTEA)");
}

TEST(SqlTranslateDdl, CreateTableVariantsAreTranslated) {
  EXPECT_EQ(sql_of("CREATE TEMP TABLE t (a INTEGER)"), "CREATE TEMP TABLE t (a BIGINT)");
  EXPECT_EQ(sql_of("CREATE TEMPORARY TABLE t (a REAL)"),
            "CREATE TEMPORARY TABLE t (a DOUBLE PRECISION)");
  EXPECT_EQ(sql_of("CREATE UNLOGGED TABLE t (a TEXT)"), "CREATE UNLOGGED TABLE t (a BYTEA)");
  EXPECT_EQ(sql_of("CREATE TABLE IF NOT EXISTS t (a BLOB)"),
            "CREATE TABLE IF NOT EXISTS t (a BYTEA)");
  EXPECT_EQ(sql_of("  -- leading comment\n/* and another */ CREATE TABLE t (a INTEGER)"),
            "  -- leading comment\n/* and another */ CREATE TABLE t (a BIGINT)");
}

TEST(SqlTranslateDdl, AlterTableIsTranslated) {
  EXPECT_EQ(sql_of("ALTER TABLE t ADD COLUMN c REAL NOT NULL DEFAULT 0"),
            "ALTER TABLE t ADD COLUMN c DOUBLE PRECISION NOT NULL DEFAULT 0");
  EXPECT_EQ(sql_of("alter table t add column note text"), "alter table t add column note BYTEA");
  EXPECT_EQ(sql_of("ALTER TABLE IF EXISTS t ALTER COLUMN n TYPE INTEGER"),
            "ALTER TABLE IF EXISTS t ALTER COLUMN n TYPE BIGINT");
}

TEST(SqlTranslateDdl, QualifiedNamesAreNotTypes) {
  EXPECT_EQ(sql_of("CREATE TABLE t2 AS SELECT t.text, t.integer, t.real, t.blob FROM t"),
            "CREATE TABLE t2 AS SELECT t.text, t.integer, t.real, t.blob FROM t");
}

TEST(SqlTranslateDdl, WordsInsideStringsAndCommentsAreKept) {
  EXPECT_EQ(sql_of("CREATE TABLE t (\n"
                   "  kind TEXT DEFAULT 'INTEGER or REAL or BLOB',  -- TEXT, INTEGER, REAL\n"
                   "  /* INTEGER PRIMARY KEY AUTOINCREMENT WITHOUT ROWID */ n INTEGER,\n"
                   "  \"TEXT\" TEXT\n"
                   ")"),
            "CREATE TABLE t (\n"
            "  kind BYTEA DEFAULT 'INTEGER or REAL or BLOB',  -- TEXT, INTEGER, REAL\n"
            "  /* INTEGER PRIMARY KEY AUTOINCREMENT WITHOUT ROWID */ n BIGINT,\n"
            "  \"TEXT\" BYTEA\n"
            ")");
}

TEST(SqlTranslateDdl, WordsThatOnlyContainATypeNameAreKept) {
  EXPECT_EQ(
      sql_of("CREATE TABLE t (textual TEXT, integers INTEGER, t_real REAL, blobby BLOB)"),
      "CREATE TABLE t (textual BYTEA, integers BIGINT, t_real DOUBLE PRECISION, blobby BYTEA)");
}

TEST(SqlTranslateDdl, OtherStatementsKeepTheirTypeNames) {
  for (const std::string sql : {
           "SELECT CAST(x AS INTEGER), CAST(y AS TEXT), CAST(z AS REAL) FROM t",
           "INSERT INTO t (text) VALUES ('INTEGER')",
           "UPDATE t SET a = CAST(b AS BLOB)",
           "CREATE INDEX t_by_text ON t (text)",
           "CREATE UNIQUE INDEX t_key ON t (integer, real)",
           "CREATE VIEW v AS SELECT CAST(a AS INTEGER) AS a FROM t",
           "DROP TABLE t",
           "CREATE FUNCTION f(a integer) RETURNS text LANGUAGE sql AS $$ SELECT 'x'::text $$",
           "CREATE OR REPLACE FUNCTION g() RETURNS TABLE (a INTEGER, b TEXT) LANGUAGE sql AS "
           "$body$ SELECT 1::INTEGER, 'x'::TEXT $body$",
           "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
       }) {
    EXPECT_EQ(sql_of(sql), sql) << sql;
  }
}

TEST(SqlTranslateDdl, TheWordTableInALeadingCommentDoesNotMakeDdl) {
  // The statement's kind is read from its words, not from comments between them.
  for (const std::string sql : {
           "CREATE /* the table's */ INDEX i ON t (text)",
           "CREATE INDEX -- for the table\n i ON t (text, integer)",
           "CREATE /* table */ FUNCTION f() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$",
       }) {
    EXPECT_EQ(sql_of(sql), sql) << sql;
  }
  EXPECT_EQ(sql_of("CREATE /* an index? no: */ TABLE t (a TEXT)"),
            "CREATE /* an index? no: */ TABLE t (a BYTEA)");
}

TEST(SqlTranslateDdl, DollarBodiesInsideCreateTableAreKept) {
  EXPECT_EQ(sql_of("CREATE TABLE t (a TEXT DEFAULT $$INTEGER TEXT$$)"),
            "CREATE TABLE t (a BYTEA DEFAULT $$INTEGER TEXT$$)");
}

TEST(SqlTranslateDdl, PlaceholdersAreTranslatedInDdlToo) {
  const Translated t = translate("ALTER TABLE t ADD COLUMN n INTEGER DEFAULT ?");
  EXPECT_EQ(t.sql, "ALTER TABLE t ADD COLUMN n BIGINT DEFAULT $1");
  EXPECT_EQ(t.placeholders, 1);
}

TEST(SqlTranslateDdl, RealMigrationTranslatesAsExpected) {
  // routes_products' stock table: TEXT keys, INTEGER counts, WITHOUT ROWID.
  EXPECT_EQ(sql_of("CREATE TABLE stock (\n"
                   "  product_id   TEXT NOT NULL REFERENCES products(id),\n"
                   "  available    INTEGER NOT NULL CHECK (available >= 0),\n"
                   "  PRIMARY KEY (product_id)\n"
                   ") WITHOUT ROWID"),
            "CREATE TABLE stock (\n"
            "  product_id   BYTEA NOT NULL REFERENCES products(id),\n"
            "  available    BIGINT NOT NULL CHECK (available >= 0),\n"
            "  PRIMARY KEY (product_id)\n"
            ")  ");
}

// ---- leading_keyword ----------------------------------------------------------------------------

TEST(SqlLeadingKeyword, FirstWordUpperCased) {
  EXPECT_EQ(leading_keyword("select 1"), "SELECT");
  EXPECT_EQ(leading_keyword("Insert into t values (1)"), "INSERT");
  EXPECT_EQ(leading_keyword("WITH x AS (SELECT 1) SELECT * FROM x"), "WITH");
  EXPECT_EQ(leading_keyword("BEGIN"), "BEGIN");
  EXPECT_EQ(leading_keyword("rollback to a"), "ROLLBACK");
}

TEST(SqlLeadingKeyword, SkipsWhitespaceAndComments) {
  EXPECT_EQ(leading_keyword("  \n\t select 1"), "SELECT");
  EXPECT_EQ(leading_keyword("-- a comment\nupdate t set a = 1"), "UPDATE");
  EXPECT_EQ(leading_keyword("/* one /* nested */ */ /* two */ delete from t"), "DELETE");
  EXPECT_EQ(leading_keyword("-- one\n-- two\n  commit"), "COMMIT");
  EXPECT_EQ(leading_keyword("/*x*/commit"), "COMMIT");
}

TEST(SqlLeadingKeyword, EmptyWhenTheStatementHasNone) {
  EXPECT_EQ(leading_keyword(""), "");
  EXPECT_EQ(leading_keyword("   \n"), "");
  EXPECT_EQ(leading_keyword("-- only a comment"), "");
  EXPECT_EQ(leading_keyword("/* only a comment */"), "");
  EXPECT_EQ(leading_keyword("(SELECT 1)"), "");
  EXPECT_EQ(leading_keyword("'text'"), "");
  EXPECT_EQ(leading_keyword("\"select\""), "");
}

TEST(SqlLeadingKeyword, StopsAtTheEndOfTheWord) {
  EXPECT_EQ(leading_keyword("SELECT(1)"), "SELECT");
  EXPECT_EQ(leading_keyword("select*from t"), "SELECT");
  EXPECT_EQ(leading_keyword("select_x"), "SELECT_X");
  EXPECT_EQ(leading_keyword("VALUES(1)"), "VALUES");
}

TEST(SqlLeadingKeyword, UnterminatedLeadingCommentIsRefused) {
  EXPECT_THROW(leading_keyword("/* never closed SELECT 1"), SqlTextError);
}

// ---- split_statements ---------------------------------------------------------------------------

TEST(SqlSplit, SplitsAtTopLevelSemicolons) {
  EXPECT_EQ(split("SELECT 1; SELECT 2;SELECT 3"),
            (std::vector<std::string>{"SELECT 1", " SELECT 2", "SELECT 3"}));
}

TEST(SqlSplit, EmptyScriptsAndPiecesAreDropped) {
  EXPECT_TRUE(split("").empty());
  EXPECT_TRUE(split("  \n ").empty());
  EXPECT_TRUE(split(";;;").empty());
  EXPECT_EQ(split(";SELECT 1;; ;\n;"), (std::vector<std::string>{"SELECT 1"}));
  EXPECT_EQ(split("SELECT 1;\n"), (std::vector<std::string>{"SELECT 1"}));
}

TEST(SqlSplit, CommentOnlyPiecesAreDropped) {
  EXPECT_EQ(split("SELECT 1; -- the end\n"), (std::vector<std::string>{"SELECT 1"}));
  EXPECT_EQ(split("/* a */ ; -- b\n; SELECT 2; /* c /* d */ */"),
            (std::vector<std::string>{" SELECT 2"}));
  EXPECT_TRUE(split("-- nothing but a comment").empty());
}

TEST(SqlSplit, CommentsBeforeAStatementStayWithIt) {
  EXPECT_EQ(split("-- first\nSELECT 1; /* second */ SELECT 2"),
            (std::vector<std::string>{"-- first\nSELECT 1", " /* second */ SELECT 2"}));
}

TEST(SqlSplit, StatementsStartingWithPunctuationAreKept) {
  EXPECT_EQ(split("(SELECT 1); 'x'; \"y\""),
            (std::vector<std::string>{"(SELECT 1)", " 'x'", " \"y\""}));
}

TEST(SqlSplit, SemicolonsInsideStringsAndIdentifiersAreKept) {
  EXPECT_EQ(split("INSERT INTO t VALUES ('a;b', 'it''s; fine'); SELECT \"c;d\" FROM t"),
            (std::vector<std::string>{"INSERT INTO t VALUES ('a;b', 'it''s; fine')",
                                      " SELECT \"c;d\" FROM t"}));
}

TEST(SqlSplit, SemicolonsInsideCommentsAreKept) {
  EXPECT_EQ(split("SELECT 1 -- one; two\n; SELECT 2 /* three; /* four; */ five; */"),
            (std::vector<std::string>{"SELECT 1 -- one; two\n",
                                      " SELECT 2 /* three; /* four; */ five; */"}));
}

TEST(SqlSplit, SemicolonsInsideDollarBodiesAreKept) {
  const std::string function =
      "CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$\n"
      "BEGIN\n"
      "  UPDATE v SET n = n + 1;\n"
      "  RETURN NULL;\n"
      "END $$";
  const std::string trigger =
      "\nCREATE TRIGGER t_bump AFTER INSERT ON t FOR EACH STATEMENT EXECUTE FUNCTION bump()";
  EXPECT_EQ(split(function + ";" + trigger + ";\n"), (std::vector<std::string>{function, trigger}));
  EXPECT_EQ(split("SELECT $x$ a; $$ b; $x$; SELECT 2"),
            (std::vector<std::string>{"SELECT $x$ a; $$ b; $x$", " SELECT 2"}));
}

TEST(SqlSplit, PiecesAreViewsIntoTheScript) {
  const std::string script = "SELECT 1; SELECT 2";
  const auto pieces = split_statements(script);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].data(), script.data());
  EXPECT_EQ(pieces[1].data(), script.data() + 9);
}

TEST(SqlSplit, UnterminatedSpansAreRefused) {
  EXPECT_THROW(split_statements("SELECT 1; SELECT 'open"), SqlTextError);
  EXPECT_THROW(split_statements("SELECT 1; /* open; SELECT 2"), SqlTextError);
  EXPECT_THROW(split_statements("SELECT $$ open; SELECT 2"), SqlTextError);
  EXPECT_THROW(split_statements("SELECT \"open; SELECT 2"), SqlTextError);
}

TEST(SqlSplit, EveryPieceTranslatesOnItsOwn) {
  const std::string script =
      "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);\n"
      "CREATE INDEX a_v ON a (v);\n"
      "INSERT INTO a (v) VALUES ('x;y');\n"
      "-- done\n";
  const auto pieces = split_statements(script);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(sql_of(pieces[0]),
            "CREATE TABLE a (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v BYTEA)");
  EXPECT_EQ(sql_of(pieces[1]), "\nCREATE INDEX a_v ON a (v)");
  EXPECT_EQ(sql_of(pieces[2]), "\nINSERT INTO a (v) VALUES ('x;y')");
  EXPECT_EQ(leading_keyword(pieces[0]), "CREATE");
  EXPECT_EQ(leading_keyword(pieces[2]), "INSERT");
}

}  // namespace
}  // namespace portico::store_postgres
