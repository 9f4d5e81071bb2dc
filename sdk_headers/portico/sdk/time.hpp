// RFC 3339 timestamps as Portico stores and shows them: UTC with milliseconds and a fixed
// width ("2026-11-26T10:00:00.123Z"), so text order is time order and `updated_at >= ?` in SQL
// compares correctly. Parsing accepts any RFC 3339 offset and fraction.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace portico::sdk {

// Milliseconds since the epoch: wide enough for any four-digit year (the clock's nanoseconds
// end in 2262).
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

namespace detail {

// "YYYY-MM-DDTHH:MM:SS.mmmZ" for `t` (whole milliseconds), or without ".mmm" — digits put in
// place, not printf's ~3,000 instructions. A year outside 0–9999 is left to printf, which writes
// it as before (more digits, or a sign).
inline std::string rfc3339_text(Timestamp t, bool millis) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<milliseconds> time(t - day);
  const int year = static_cast<int>(ymd.year());
  const auto month = static_cast<unsigned>(ymd.month());
  const auto mday = static_cast<unsigned>(ymd.day());
  const auto hours = static_cast<int>(time.hours().count());
  const auto minutes = static_cast<int>(time.minutes().count());
  const auto seconds = static_cast<int>(time.seconds().count());
  const auto fraction = static_cast<int>(time.subseconds().count());
  if (year < 0 || year > 9999) {
    char text[48];
    const int n = millis ? std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                                         year, month, mday, hours, minutes, seconds, fraction)
                         : std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", year,
                                         month, mday, hours, minutes, seconds);
    return std::string(text, static_cast<std::size_t>(n));
  }
  char text[] = "0000-00-00T00:00:00.000Z";
  const auto two = [&text](std::size_t at, unsigned value) {
    text[at] = static_cast<char>('0' + value / 10);
    text[at + 1] = static_cast<char>('0' + value % 10);
  };
  two(0, static_cast<unsigned>(year) / 100);
  two(2, static_cast<unsigned>(year) % 100);
  two(5, month);
  two(8, mday);
  two(11, static_cast<unsigned>(hours));
  two(14, static_cast<unsigned>(minutes));
  two(17, static_cast<unsigned>(seconds));
  if (!millis) {
    text[19] = 'Z';
    return std::string(text, 20);
  }
  text[20] = static_cast<char>('0' + fraction / 100);
  two(21, static_cast<unsigned>(fraction) % 100);
  return std::string(text, 24);
}

}  // namespace detail

inline std::string format_timestamp(Timestamp t) {
  return detail::rfc3339_text(t, true);
}

// "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)"; nullopt when malformed. Fractions beyond milliseconds
// are truncated.
inline std::string format_timestamp(std::chrono::system_clock::time_point t) {
  return format_timestamp(std::chrono::floor<std::chrono::milliseconds>(t));
}

inline std::optional<Timestamp> parse_timestamp(std::string_view text) {
  using namespace std::chrono;
  auto number = [&](std::size_t at, std::size_t count) -> std::optional<int> {
    if (at + count > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  auto y = number(0, 4), mo = number(5, 2), d = number(8, 2);
  auto h = number(11, 2), mi = number(14, 2), s = number(17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  const year_month_day ymd{year(*y), month(static_cast<unsigned>(*mo)),
                           day(static_cast<unsigned>(*d))};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  std::size_t at = 19;
  int millis = 0;
  if (at < text.size() && text[at] == '.') {
    const std::size_t start = ++at;
    int scale = 100;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      millis += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) return std::nullopt;
  }
  minutes offset{0};
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    auto oh = number(at + 1, 2), om = number(at + 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset = hours(*oh) + minutes(*om);
    if (text[at] == '-') offset = -offset;
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  return Timestamp(sys_days(ymd) + hours(*h) + minutes(*mi) + seconds(*s) + milliseconds(millis) -
                   offset);
}

}  // namespace portico::sdk
