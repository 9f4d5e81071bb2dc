// The header lines the gateway itself adds to every answer (the rate limit's, X-Request-Id),
// written once as "Name: value\r\n" and handed to the connection as one piece, which it copies
// into the response head as it is. Room for the usual set inline; the heap only past it.
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/util/put_text.hpp"
#include "portico/http_types.hpp"

namespace portico::pipeline {

// The headers the gateway writes itself, from its HeaderLines: a handler's header of one of these
// names is dropped from its answer, so none appears twice.
inline bool is_gateway_header(std::string_view name) {
  static constexpr std::string_view kNames[] = {"X-Request-Id", "RateLimit-Policy", "RateLimit",
                                                "X-RateLimit-Limit", "X-RateLimit-Remaining",
                                                "X-RateLimit-Reset"};
  for (auto gateway : kNames) {
    if (name.size() == gateway.size() && iequals(name, gateway)) return true;
  }
  return false;
}

// Makes every CR and LF in [begin, end) a space, in place: header text copied as it is into a
// response head can then neither end its line early nor start a header of its own. Eight bytes
// are tested at a time (header text almost never has either), the last eight overlapping the
// word before, so a line of 8 bytes or more has no byte-at-a-time tail; a word that might hold
// one is gone over byte by byte.
inline void blank_line_breaks(char* begin, char* end) {
  constexpr std::uint64_t kOnes = 0x0101010101010101u;
  constexpr std::uint64_t kHighs = 0x8080808080808080u;
  const auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const auto blank = [](char* from, char* to) {
    for (char* q = from; q < to; ++q) {
      if (*q == '\r' || *q == '\n') *q = ' ';
    }
  };
  const auto may_break = [&](const char* p) {
    std::uint64_t x;
    std::memcpy(&x, p, sizeof x);
    return (has_zero(x ^ (kOnes * '\r')) | has_zero(x ^ (kOnes * '\n'))) != 0;
  };
  if (end - begin < 8) {
    blank(begin, end);
    return;
  }
  char* p = begin;
  for (; end - p > 8; p += 8) {
    if (may_break(p)) blank(p, p + 8);
  }
  if (may_break(end - 8)) blank(end - 8, end);
}

class HeaderLines {
 public:
  // User-provided, so that `HeaderLines lines = {}` (the exchange's, every request) does not zero
  // the inline room first: only the first size_ bytes of it are ever read.
  HeaderLines() noexcept {}

  // CR and LF in either part become spaces, as in every header the connection writes: no value
  // can end the line early or start a header of its own.
  void add(std::string_view name, std::string_view value) {
    char* const line = put_line(name, value);
    blank_line_breaks(line, line + name.size() + 2 + value.size());  // ": " has neither
  }
  void add(std::string_view name, std::int64_t value) {
    char digits[24];
    auto [end, error] = std::to_chars(digits, digits + sizeof digits, value);
    (void)error;  // 24 characters hold any 64-bit number
    char* const line = put_line(name, std::string_view(digits, static_cast<std::size_t>(end - digits)));
    blank_line_breaks(line, line + name.size());  // digits have no line break to blank
  }

  // A line from pieces the caller vouches for — text written in the code, digits, or text it
  // blanked itself (blank_line_breaks) — so nothing is blanked here: together the pieces are the
  // whole "Name: value\r\n". For lines made many times from the same parts.
  [[gnu::always_inline]] void add_trusted(std::initializer_list<std::string_view> pieces) {
    std::size_t n = 0;
    for (const std::string_view piece : pieces) n += piece.size();
    char* p = grow(n);
    for (const std::string_view piece : pieces) p = util::put_text(p, piece);
  }

  std::string_view view() const {
    return spilled_ ? std::string_view(spill_) : std::string_view(inline_.data(), size_);
  }
  bool empty() const { return view().empty(); }

  // Appends each of `lines` to `headers` as a name and a value, in order: for callers that want
  // one Response with the gateway's headers in it (Snapshot::handle, tests).
  static void append_to(HeaderList& headers, std::string_view lines) {
    while (!lines.empty()) {
      const auto end = lines.find("\r\n");
      const std::string_view line = lines.substr(0, end);
      const auto colon = line.find(": ");
      headers.emplace_back(line.substr(0, colon), colon == std::string_view::npos
                                                      ? std::string_view()
                                                      : line.substr(colon + 2));
      if (end == std::string_view::npos) break;
      lines.remove_prefix(end + 2);
    }
  }

 private:
  // "name: value\r\n" copied in one piece; returns where it starts.
  char* put_line(std::string_view name, std::string_view value) {
    char* const line = grow(name.size() + value.size() + 4);
    char* p = line;
    p = util::put_text(p, name);
    *p++ = ':';
    *p++ = ' ';
    p = util::put_text(p, value);
    *p++ = '\r';
    *p = '\n';
    return line;
  }
  // Room for n more bytes at the end: inline while they fit, then in spill_ for good.
  char* grow(std::size_t n) {
    if (!spilled_ && size_ + n <= inline_.size()) {
      size_ += n;
      return inline_.data() + size_ - n;
    }
    if (!spilled_) {
      spill_.assign(inline_.data(), size_);
      spilled_ = true;
    }
    spill_.resize(spill_.size() + n);
    return spill_.data() + spill_.size() - n;
  }

  std::array<char, 320> inline_;
  std::size_t size_ = 0;
  bool spilled_ = false;
  std::string spill_;
};

}  // namespace portico::pipeline
