#include "webhooks_common/retry_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace portico::webhooks {

namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

template <std::size_t N>
bool one_of(std::string_view word, const std::array<std::string_view, N>& names) {
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view name) { return equal_ignoring_case(word, name); });
}

// 1–12, or 0 when `word` is no month.
unsigned month_number(std::string_view word) {
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (equal_ignoring_case(word, kMonths[i])) return static_cast<unsigned>(i + 1);
  }
  return 0;
}

// Exactly `count` digits at `text[at…]`.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// "HH:MM:SS" at text[at…].
std::optional<seconds> time_of_day(std::string_view text, std::size_t at) {
  if (at + 8 > text.size() || text[at + 2] != ':' || text[at + 5] != ':') return std::nullopt;
  const auto h = digits(text, at, 2), m = digits(text, at + 3, 2), s = digits(text, at + 6, 2);
  if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;  // 60: leap second
  return hours(*h) + minutes(*m) + seconds(*s);
}

std::optional<sys_seconds> make_time(int y, unsigned month, int d, seconds time) {
  if (month == 0 || d < 1) return std::nullopt;
  const year_month_day date{year(y), std::chrono::month(month),
                            std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok()) return std::nullopt;
  return sys_days(date) + time;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<sys_seconds> imf_fixdate(std::string_view t) {
  if (t.size() != 29 || t[3] != ',' || t[4] != ' ' || t[7] != ' ' || t[11] != ' ' || t[16] != ' ' ||
      t[25] != ' ' || t.substr(26) != "GMT" || !one_of(t.substr(0, 3), kDays)) {
    return std::nullopt;
  }
  const auto d = digits(t, 5, 2), y = digits(t, 12, 4);
  const auto time = time_of_day(t, 17);
  if (!d || !y || !time) return std::nullopt;
  return make_time(*y, month_number(t.substr(8, 3)), *d, *time);
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<sys_seconds> rfc850_date(std::string_view t, system_clock::time_point now) {
  const std::size_t comma = t.find(',');
  if (comma == std::string_view::npos || !one_of(t.substr(0, comma), kLongDays)) {
    return std::nullopt;
  }
  const std::string_view r = t.substr(comma + 1);  // " 06-Nov-94 08:49:37 GMT"
  if (r.size() != 23 || r[0] != ' ' || r[3] != '-' || r[7] != '-' || r[10] != ' ' || r[19] != ' ' ||
      r.substr(20) != "GMT") {
    return std::nullopt;
  }
  const auto d = digits(r, 1, 2), yy = digits(r, 8, 2);
  const auto time = time_of_day(r, 11);
  if (!d || !yy || !time) return std::nullopt;
  const int this_year = static_cast<int>(year_month_day(floor<days>(now)).year());
  int y = this_year / 100 * 100 + *yy;
  if (y > this_year + 50) y -= 100;
  return make_time(y, month_number(r.substr(4, 3)), *d, *time);
}

// "Sun Nov  6 08:49:37 1994"
std::optional<sys_seconds> asctime_date(std::string_view t) {
  if (t.size() != 24 || t[3] != ' ' || t[7] != ' ' || t[10] != ' ' || t[19] != ' ' ||
      !one_of(t.substr(0, 3), kDays)) {
    return std::nullopt;
  }
  const std::optional<int> d = t[8] == ' ' ? digits(t, 9, 1) : digits(t, 8, 2);
  const auto y = digits(t, 20, 4);
  const auto time = time_of_day(t, 11);
  if (!d || !y || !time) return std::nullopt;
  return make_time(*y, month_number(t.substr(4, 3)), *d, *time);
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<milliseconds> next_retry_delay(int failed_attempts, double unit_random) {
  if (failed_attempts < 1) return milliseconds(0);
  if (failed_attempts >= kMaxAttempts) return std::nullopt;
  if (!(unit_random >= 0.0)) unit_random = 0.0;  // also NaN
  if (unit_random >= 1.0) unit_random = std::nextafter(1.0, 0.0);
  const double base = static_cast<double>(
      duration_cast<milliseconds>(kRetrySchedule[static_cast<std::size_t>(failed_attempts - 1)])
          .count());
  const double factor = 1.0 - kRetryJitter + 2.0 * kRetryJitter * unit_random;
  return milliseconds(std::llround(base * factor));
}

std::optional<sys_seconds> parse_http_date(std::string_view text, system_clock::time_point now) {
  text = trimmed(text);
  if (auto t = imf_fixdate(text)) return t;
  if (auto t = rfc850_date(text, now)) return t;
  return asctime_date(text);
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              system_clock::time_point now) {
  value = trimmed(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t delta = 0;
    const std::int64_t cap = duration_cast<seconds>(kMaxRetryAfter).count();
    for (char c : value) {
      delta = std::min<std::int64_t>(delta * 10 + (c - '0'), cap);  // saturates, never overflows
    }
    return duration_cast<milliseconds>(seconds(delta));
  }
  const std::optional<sys_seconds> date = parse_http_date(value, now);
  if (!date) return std::nullopt;
  const milliseconds wait = duration_cast<milliseconds>(*date - now);
  return std::clamp(wait, milliseconds(0), duration_cast<milliseconds>(kMaxRetryAfter));
}

std::optional<milliseconds> retry_delay(int failed_attempts, double unit_random,
                                        std::optional<milliseconds> retry_after) {
  std::optional<milliseconds> delay = next_retry_delay(failed_attempts, unit_random);
  if (delay && retry_after) {
    *delay = std::max(*delay, std::min(*retry_after, duration_cast<milliseconds>(kMaxRetryAfter)));
  }
  return delay;
}

std::optional<milliseconds> retry_delay(int failed_attempts, double unit_random,
                                        std::string_view retry_after_header,
                                        system_clock::time_point now) {
  return retry_delay(failed_attempts, unit_random, parse_retry_after(retry_after_header, now));
}

}  // namespace portico::webhooks
