// Fuzz target: what the PostgreSQL store does to a plugin's SQL before the server sees it
// (plugins/store_postgres/sql_text.hpp: translate, split_statements, leading_keyword), on any
// bytes. Only SqlTextError may escape them. The input is also read by a small reference lexer
// written here from the header's documented rules — '…' literals ('' inside), "…" identifiers
// ("" inside), -- comments to the end of the line, nested /* */ comments, $$…$$ and $tag$…$tag$
// bodies (tag [A-Za-z_][A-Za-z0-9_]*, the opening '$' not preceded by a letter, digit, '_' or byte
// ≥ 0x80) — and the functions must agree with it:
//  - an unterminated span is refused by translate and split_statements alike;
//  - translate turns exactly the `?` outside spans into $1…$n (n = placeholders), refusing a
//    statement that also has a $<digit> parameter outside spans; any other statement comes back
//    byte for byte but for those `?`, and a CREATE/ALTER one keeps every span verbatim and in
//    order (only words outside spans change there);
//  - split_statements cuts at exactly the top-level semicolons and drops exactly the pieces with
//    nothing but whitespace and comments; each piece splits to itself again and translates on its
//    own (refused at most for mixing placeholders);
//  - leading_keyword is the first word outside leading whitespace and comments, upper-cased.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/store_postgres/sql_text.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace fuzz = portico::fuzz;
namespace sp = portico::store_postgres;

bool word_byte(unsigned char c) {
  return std::isalnum(c) != 0 || c == '_' || c >= 0x80;
}
bool space_byte(unsigned char c) {
  return std::isspace(c) != 0;
}

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;  // one past
  bool comment = false;
};

// The reference reading of `text`: its spans, or unterminated = true.
struct Lexed {
  std::vector<Span> spans;
  bool unterminated = false;
};

// The span starting at `at` ({at, at} when none does).
Span span_at(std::string_view text, std::size_t at, bool& unterminated) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const std::size_t n = text.size();
  const char c = text[at];
  if (c == '\'' || c == '"') {
    std::size_t i = at + 1;
    while (i < n) {
      if (text[i] == c) {
        if (i + 1 < n && text[i + 1] == c) {
          i += 2;
          continue;
        }
        return {at, i + 1, false};
      }
      ++i;
    }
    unterminated = true;
    return {at, n, false};
  }
  if (c == '-' && at + 1 < n && text[at + 1] == '-') {
    std::size_t i = at + 2;
    while (i < n && text[i] != '\n') ++i;
    return {at, i < n ? i + 1 : n, true};
  }
  if (c == '/' && at + 1 < n && text[at + 1] == '*') {
    int depth = 1;
    std::size_t i = at + 2;
    while (i + 1 < n) {
      if (text[i] == '/' && text[i + 1] == '*') {
        ++depth;
        i += 2;
      } else if (text[i] == '*' && text[i + 1] == '/') {
        i += 2;
        if (--depth == 0) return {at, i, true};
      } else {
        ++i;
      }
    }
    unterminated = true;
    return {at, n, true};
  }
  if (c == '$' && (at == 0 || !word_byte(byte(at - 1)))) {
    std::size_t i = at + 1;
    if (i < n && (std::isalpha(byte(i)) || text[i] == '_')) {
      while (i < n && (std::isalnum(byte(i)) || text[i] == '_')) ++i;
    }
    if (i >= n || text[i] != '$') return {at, at, false};
    const std::string_view tag = text.substr(at, i + 1 - at);
    const std::size_t close = text.find(tag, i + 1);
    if (close == std::string_view::npos) {
      unterminated = true;
      return {at, n, false};
    }
    return {at, close + tag.size(), false};
  }
  return {at, at, false};
}

Lexed lex(std::string_view text) {
  Lexed out;
  std::size_t i = 0;
  while (i < text.size()) {
    const Span span = span_at(text, i, out.unterminated);
    if (out.unterminated) return out;
    if (span.end == i) {
      ++i;
      continue;
    }
    out.spans.push_back(span);
    i = span.end;
  }
  return out;
}

// inside[i]: byte i of the text belongs to a span.
std::vector<bool> inside_spans(std::size_t size, const Lexed& lexed) {
  std::vector<bool> inside(size, false);
  for (const Span& s : lexed.spans) {
    for (std::size_t i = s.begin; i < s.end; ++i) inside[i] = true;
  }
  return inside;
}

// The first word after whitespace and comments, upper-cased; unterminated = true when an
// unterminated comment comes first.
std::string reference_keyword(std::string_view text, bool& unterminated) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '-' || text[i] == '/') {
      const Span span = span_at(text, i, unterminated);
      if (unterminated) return {};
      if (span.end != i) {
        i = span.end;
        continue;
      }
    }
    if (space_byte(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    break;
  }
  std::string word;
  while (i < text.size() && word_byte(static_cast<unsigned char>(text[i]))) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
    ++i;
  }
  return word;
}

bool is_mixing_error(const sp::SqlTextError& e) {
  return std::string_view(e.what()).find("both") != std::string_view::npos;
}

void check_keyword(std::string_view text) {
  bool unterminated = false;
  const std::string expected = reference_keyword(text, unterminated);
  std::string keyword;
  const bool ok = fuzz::expect_only<sp::SqlTextError>([&] { keyword = sp::leading_keyword(text); });
  fuzz::check(ok != unterminated, "leading_keyword: refused iff an unterminated comment leads");
  if (ok) fuzz::check(keyword == expected, "leading_keyword: not the first word", keyword);
}

void check_translate(std::string_view text, const Lexed& lexed) {
  sp::Translated out;
  std::string refusal;
  const bool ok = fuzz::expect_only<sp::SqlTextError>([&] {
    try {
      out = sp::translate(text);
    } catch (const sp::SqlTextError& e) {
      refusal = e.what();
      throw;
    }
  });
  if (lexed.unterminated) {
    fuzz::check(!ok, "translate: an unterminated span accepted");
    return;
  }
  // The `?` and `$<digit>` outside spans.
  const std::vector<bool> inside = inside_spans(text.size(), lexed);
  std::vector<std::size_t> marks;
  bool dollar_numbers = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (inside[i]) continue;
    if (text[i] == '?') marks.push_back(i);
    if (text[i] == '$' && i + 1 < text.size() &&
        std::isdigit(static_cast<unsigned char>(text[i + 1])) &&
        (i == 0 || !word_byte(static_cast<unsigned char>(text[i - 1])))) {
      dollar_numbers = true;
    }
  }
  if (!marks.empty() && dollar_numbers) {
    fuzz::check(!ok, "translate: ? mixed with $n accepted");
    fuzz::check(refusal.find("both") != std::string::npos, "translate: mixing refused for",
                refusal);
    return;
  }
  fuzz::check(ok, "translate: refused a well-formed statement", refusal);
  fuzz::check(out.placeholders == static_cast<int>(marks.size()),
              "translate: placeholders is not the number of ? outside spans");
  // Every `?` the output still has is one of the input's inside spans.
  std::size_t in_question = 0, out_question = 0;
  for (char c : text) in_question += c == '?';
  for (char c : out.sql) out_question += c == '?';
  fuzz::check(out_question + marks.size() == in_question, "translate: a ? appeared or vanished");

  bool unterminated = false;
  const std::string keyword = reference_keyword(text, unterminated);
  if (keyword != "CREATE" && keyword != "ALTER") {
    // Byte for byte, but for the `?` outside spans.
    std::string expected;
    std::size_t from = 0;
    int n = 0;
    for (std::size_t at : marks) {
      expected.append(text.substr(from, at - from));
      expected += '$';
      expected += std::to_string(++n);
      from = at + 1;
    }
    expected.append(text.substr(from));
    fuzz::check(out.sql == expected, "translate: changed more than the placeholders", out.sql);
    return;
  }
  // DDL: the spans are copied as they are, in order.
  std::size_t at = 0;
  for (const Span& s : lexed.spans) {
    const std::size_t found = out.sql.find(text.substr(s.begin, s.end - s.begin), at);
    fuzz::check(found != std::string::npos, "translate: a span of a CREATE/ALTER changed");
    at = found + (s.end - s.begin);
  }
  if (out.placeholders > 0) {
    fuzz::check(out.sql.find("$" + std::to_string(out.placeholders)) != std::string::npos,
                "translate: the last placeholder is missing");
  }
}

void check_split(std::string_view text, const Lexed& lexed) {
  std::vector<std::string_view> pieces;
  const bool ok = fuzz::expect_only<sp::SqlTextError>([&] { pieces = sp::split_statements(text); });
  fuzz::check(ok != lexed.unterminated, "split_statements: refused iff a span is unterminated");
  if (!ok) return;

  // The reference: cut at semicolons outside spans, keep the pieces with code (anything but
  // whitespace outside comments; literals count as code).
  const std::vector<bool> inside = inside_spans(text.size(), lexed);
  std::vector<bool> in_comment(text.size(), false);
  for (const Span& s : lexed.spans) {
    if (!s.comment) continue;
    for (std::size_t i = s.begin; i < s.end; ++i) in_comment[i] = true;
  }
  std::vector<std::string_view> expected;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && (inside[i] || text[i] != ';')) continue;
    bool code = false;
    for (std::size_t k = start; k < i && !code; ++k) {
      code = !in_comment[k] && !space_byte(static_cast<unsigned char>(text[k]));
    }
    if (code) expected.push_back(text.substr(start, i - start));
    start = i + 1;
  }
  fuzz::check(pieces.size() == expected.size(), "split_statements: another number of pieces");
  for (std::size_t p = 0; p < pieces.size(); ++p) {
    fuzz::check(pieces[p].data() == expected[p].data() && pieces[p].size() == expected[p].size(),
                "split_statements: a piece is cut elsewhere", pieces[p]);
  }

  for (std::string_view piece : pieces) {
    // A piece is one statement: it splits to itself, its keyword and translation never find an
    // unterminated span (translate may still refuse mixed placeholders).
    std::vector<std::string_view> again;
    fuzz::expect_only<fuzz::Never>([&] { again = sp::split_statements(piece); });
    fuzz::check(
        again.size() == 1 && again[0].data() == piece.data() && again[0].size() == piece.size(),
        "split_statements: a piece splits again", piece);
    fuzz::expect_only<fuzz::Never>([&] { static_cast<void>(sp::leading_keyword(piece)); });
    try {
      const sp::Translated translated = sp::translate(piece);
      static_cast<void>(translated);
    } catch (const sp::SqlTextError& e) {
      fuzz::check(is_mixing_error(e), "translate: a split piece refused", e.what());
    } catch (...) {
      fuzz::finding("translate: a split piece threw something else");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const Lexed lexed = lex(text);
  check_keyword(text);
  check_translate(text, lexed);
  check_split(text, lexed);
  return 0;
}
