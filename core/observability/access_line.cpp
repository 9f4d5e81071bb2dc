// The access line (access_line.hpp): one JSON object per request, formatted into a buffer of the
// thread's own, every field bounded and escaped, key-shaped text redacted.
#include "core/observability/access_line.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "core/util/json_text.hpp"
#include "core/util/put_text.hpp"
#include "portico/sdk/text_key.hpp"

namespace portico::observability {
namespace {

constexpr std::size_t kMaxPath = 2048;
constexpr std::size_t kMaxUserAgent = 512;

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t len = c >= 0xF5 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  if (len == 3 && ((c == 0xE0 && byte(i + 1) < 0xA0) || (c == 0xED && byte(i + 1) > 0x9F)))
    return 0;  // overlong, or a surrogate
  if (len == 4 && ((c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) > 0x8F)))
    return 0;
  return len;
}

// The line is written through a pointer into a buffer that holds the longest line there can be
// (kMaxLine below): every field is cut to a bound, and a JSON string takes at most six bytes per
// byte of text (\u00XX, \ufffd) plus its quotes. No capacity is checked along the way.

// A JSON string: quotes, escapes, control characters as \u00XX, invalid UTF-8 as U+FFFD.
// At most 6 * max_bytes + 2 bytes.
char* put_json_string(char* p, std::string_view s, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (s.size() > max_bytes) s = s.substr(0, max_bytes);
  *p++ = '"';
  for (std::size_t i = 0; i < s.size();) {
    // Runs of plain characters (nearly every byte of a real request) go in with one copy.
    const std::size_t run = util::plain_json_run(s, i);
    p = util::put_text(p, s.substr(i, run));
    i += run;
    if (i == s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = static_cast<char>(c);
      ++i;
    } else if (c < 0x80) {  // a control character or DEL
      p = util::put_text(p, "\\u00");
      *p++ = kHex[c >> 4];
      *p++ = kHex[c & 0xF];
      ++i;
    } else if (std::size_t len = utf8_sequence(s, i); len > 0) {
      p = util::put_text(p, s.substr(i, len));
      i += len;
    } else {
      p = util::put_text(p, "\\ufffd");
      ++i;
    }
  }
  *p++ = '"';
  return p;
}

char* put_optional(char* p, const std::optional<std::string_view>& value, std::size_t max_bytes) {
  return value ? put_json_string(p, *value, max_bytes) : util::put_text(p, "null");
}

// Fields whose text mostly repeats from one line to the next on a thread — the partner, its key,
// the method and the route, one after another; the client's address: their last texts and what
// they were written as (names included), copied again as one piece while every text is the same
// instead of being checked and escaped again.
struct RepeatedField {
  std::string_view name;  // written before the value: ,"partner_id":
  std::optional<std::string_view> value;
  std::size_t max_bytes;
};

template <std::size_t N>
struct Repeated {
  bool set = false;
  std::array<bool, N> null{};
  std::array<std::string, N> text;
  std::string json;  // the fields as written
};

template <std::size_t N>
char* put_repeated(char* p, Repeated<N>& last, const std::array<RepeatedField, N>& fields) {
  bool same = last.set;
  for (std::size_t i = 0; i < N && same; ++i) {
    const auto& value = fields[i].value;
    same = last.null[i] == !value && (!value || sdk::same_text(*value, last.text[i]));
  }
  if (same) return util::put_text(p, last.json);
  char* const start = p;
  for (std::size_t i = 0; i < N; ++i) {
    const auto& value = fields[i].value;
    p = util::put_text(p, fields[i].name);
    p = put_optional(p, value, fields[i].max_bytes);
    last.null[i] = !value;
    last.text[i].assign(value ? *value : std::string_view{});
  }
  last.set = true;
  last.json.assign(start, static_cast<std::size_t>(p - start));
  return p;
}

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool base64_char(char c) {
  return alnum(c) || c == '+' || c == '/' || c == '=';
}

// API keys are base62 after the prefix; webhook secrets base64.
struct Secret {
  std::string_view prefix;
  bool (*body)(char);
  std::size_t underscore;  // where the prefix's first '_' is
};
constexpr std::array<Secret, 3> kSecrets = {
    {{"pk_live_", alnum, 2}, {"pk_test_", alnum, 2}, {"whsec_", base64_char, 5}}};
static_assert(kSecrets[0].prefix.find('_') == kSecrets[0].underscore &&
              kSecrets[1].prefix.find('_') == kSecrets[1].underscore &&
              kSecrets[2].prefix.find('_') == kSecrets[2].underscore);

struct SecretAt {
  std::size_t at = std::string_view::npos;
  const Secret* secret = nullptr;  // null: none
};

// The first key-shaped text in `text` at or after `from`. Each prefix has an underscore: the
// text's underscores are found with memchr and each is tried as the third byte of "pk_live_" or
// "pk_test_" and the sixth of "whsec_", in the order they come — one pass over a path or a
// user agent, where three searches (one per prefix) stopped at every 'p' or 'w'. The first match
// is the first secret: two prefixes matched through different underscores cannot start in the
// other order, as "whsec_" has no 'p' in the three bytes after its start and none of its bytes
// is an underscore before its last.
SecretAt find_secret(std::string_view text, std::size_t from) {
  const char* const data = text.data();
  const char* const end = data + text.size();
  for (const char* u = from < text.size() ? static_cast<const char*>(
                                                std::memchr(data + from, '_', text.size() - from))
                                          : nullptr;
       u != nullptr; u = static_cast<const char*>(std::memchr(u + 1, '_', end - u - 1))) {
    const auto at_u = static_cast<std::size_t>(u - data);
    for (const auto& secret : kSecrets) {
      if (at_u < from + secret.underscore) continue;
      const char* start = u - secret.underscore;
      // The first byte before the call: most underscores ("prod_...") have no 'p' or 'w' there.
      if (end - start >= static_cast<std::ptrdiff_t>(secret.prefix.size()) &&
          *start == secret.prefix.front() &&
          std::memcmp(start, secret.prefix.data(), secret.prefix.size()) == 0) {
        return {at_u - secret.underscore, &secret};
      }
    }
  }
  return {};
}

// Appends the first `limit` bytes of redact_secrets(text), `first` being its first secret: what
// lies beyond would be cut anyway, and a huge header cannot grow the buffer.
void append_redacted(std::string& out, std::string_view text, SecretAt first, std::size_t limit) {
  std::size_t room = limit;
  auto put = [&](std::string_view piece) {
    piece = piece.substr(0, room);
    out.append(piece);
    room -= piece.size();
  };
  std::size_t i = 0;
  for (SecretAt hit = first; hit.secret && room > 0; hit = find_secret(text, i)) {
    std::string_view prefix = hit.secret->prefix;
    std::size_t end = hit.at + prefix.size();
    while (end < text.size() && hit.secret->body(text[end])) ++end;
    put(text.substr(i, hit.at - i));
    put(prefix);
    put("[redacted]");
    i = end;
  }
  put(text.substr(i));
}

// redact_secrets(text) as a JSON string of at most `max_bytes` of it. Text without a secret (nearly
// all) is escaped straight from the request; the rare one is redacted into a buffer of this
// thread's that keeps its capacity.
char* put_redacted_json_string(char* p, std::string_view text, std::size_t max_bytes) {
  SecretAt first = find_secret(text, 0);
  if (!first.secret) return put_json_string(p, text, max_bytes);
  thread_local std::string redacted;
  redacted.clear();
  append_redacted(redacted, text, first, max_bytes);
  return put_json_string(p, redacted, max_bytes);
}

template <typename Integer>
char* put_integer(char* p, Integer value) {
  return std::to_chars(p, p + std::numeric_limits<Integer>::digits10 + 3, value).ptr;
}

// Bytes a duration takes at most: fmt's "{:.3f}" of the largest, -9223372036854.775, is 18.
constexpr std::size_t kMaxDuration = 64;

// The duration in milliseconds with three decimals, the digits fmt's "{:.3f}" writes for
// ns / 1e6 (and their rounding: half to even on the exact double). Below 2^50 ns (13 days) that
// double is within 2^-53 of its value, ~1.3e-7 ms, and a whole number of nanoseconds is at least
// 1e-6 ms from a tie unless it is one (a remainder of exactly 500 ns): so the nearest microsecond
// is the double's rounding, worked out in integers. A tie, a negative or a huge duration is left
// to fmt, which writes at most kMaxDuration bytes of it.
char* put_duration_ms(char* p, std::chrono::nanoseconds duration) {
  const std::int64_t ns = duration.count();
  const std::int64_t rest = ns % 1000;
  if (ns >= 0 && ns < (std::int64_t{1} << 50) && rest != 500) {
    const std::int64_t micros = ns / 1000 + (rest > 500 ? 1 : 0);
    p = put_integer(p, micros / 1000);
    const auto fraction = static_cast<int>(micros % 1000);
    *p++ = '.';
    *p++ = static_cast<char>('0' + fraction / 100);
    *p++ = static_cast<char>('0' + fraction / 10 % 10);
    *p++ = static_cast<char>('0' + fraction % 10);
    return p;
  }
  const double ms = static_cast<double>(ns) / 1e6;
  auto written = fmt::format_to_n(p, kMaxDuration, FMT_STRING("{:.3f}"), ms);
  return p + std::min(written.size, kMaxDuration);
}

// RFC 3339 in UTC with milliseconds, as util::format_rfc3339(t, true) writes it. The date and time
// of day are converted once per second per thread; the milliseconds are written each time.
char* put_time(char* p, std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  // "YYYY-MM-DDTHH:MM:SS" of the second this thread wrote last (since_epoch: none yet).
  struct Second {
    std::int64_t since_epoch = std::numeric_limits<std::int64_t>::min();
    char text[32];
    std::size_t size = 0;
  };
  thread_local Second cached;
  auto second = floor<seconds>(t);
  if (second.time_since_epoch().count() != cached.since_epoch) {
    auto day = floor<days>(second);
    year_month_day ymd{day};
    hh_mm_ss hms{second - day};
    int size = std::snprintf(
        cached.text, sizeof cached.text, "%04d-%02u-%02uT%02d:%02d:%02d",
        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
        static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
        static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    cached.size = static_cast<std::size_t>(std::clamp(size, 0, int{sizeof cached.text} - 1));
    cached.since_epoch = second.time_since_epoch().count();
  }
  auto ms = static_cast<int>(duration_cast<milliseconds>(t - second).count());  // 0-999
  p = util::put_text(p, std::string_view(cached.text, cached.size));
  *p++ = '.';
  *p++ = static_cast<char>('0' + ms / 100);
  *p++ = static_cast<char>('0' + ms / 10 % 10);
  *p++ = static_cast<char>('0' + ms % 10);
  *p++ = 'Z';
  return p;
}

// The longest line: each field at its bound, each string escaped six bytes for one, the newline.
constexpr std::size_t kMaxId = 256, kMaxMethod = 32, kMaxClientIp = 64;
constexpr std::size_t kMaxLine =
    512 /* names, time, numbers */ + kMaxDuration +
    6 * (3 * kMaxId + kMaxMethod + 2 * kMaxPath + kMaxClientIp + kMaxUserAgent) +
    2 * 8 /* quotes */ + 1;

// The line (no newline) from `p`, which has room for kMaxLine bytes; returns its end.
char* put_access_line(char* p, const AccessRecord& r) {
  using namespace std::string_view_literals;
  struct Repeats {
    Repeated<4> caller_and_route;
    Repeated<1> client_ip;
  };
  thread_local Repeats last;
  p = util::put_text(p, "{\"time\":\""sv);
  p = put_time(p, r.time);
  p = util::put_text(p, "\",\"request_id\":"sv);
  p = put_json_string(p, r.request_id, kMaxId);
  p = put_repeated<4>(p, last.caller_and_route,
                      {{{",\"partner_id\":"sv, r.partner_id, kMaxId},
                        {",\"key_id\":"sv, r.key_id, kMaxId},
                        {",\"method\":"sv, r.method, kMaxMethod},
                        {",\"route\":"sv, r.route, kMaxPath}}});
  p = util::put_text(p, ",\"path\":"sv);
  p = put_redacted_json_string(p, r.path, kMaxPath);
  p = util::put_text(p, ",\"status\":"sv);
  p = put_integer(p, r.status);
  p = util::put_text(p, ",\"duration_ms\":"sv);
  p = put_duration_ms(p, r.duration);
  p = util::put_text(p, ",\"bytes\":"sv);
  p = put_integer(p, r.bytes);
  p = put_repeated<1>(p, last.client_ip, {{{",\"client_ip\":"sv, r.client_ip, kMaxClientIp}}});
  p = util::put_text(p, ",\"user_agent\":"sv);
  p = put_redacted_json_string(p, r.user_agent, kMaxUserAgent);
  *p++ = '}';
  return p;
}

}  // namespace

std::string_view access_line(const AccessRecord& r) {
  // This thread's buffer for one line, made at its first line (kMaxLine bytes, ~33 KiB) and kept.
  thread_local std::unique_ptr<char[]> buffer(new char[kMaxLine]);
  char* const start = buffer.get();
  char* end = put_access_line(start, r);
  *end++ = '\n';
  return {start, static_cast<std::size_t>(end - start)};
}

std::string redact_secrets(std::string_view text) {
  SecretAt first = find_secret(text, 0);
  if (!first.secret) return std::string(text);
  std::string out;
  append_redacted(out, text, first, std::string::npos);
  return out;
}

void append_access_line(std::string& out, const AccessRecord& r) {
  const std::string_view line = access_line(r);
  out.append(line.substr(0, line.size() - 1));  // without its newline
}

std::string format_access_line(const AccessRecord& r) {
  std::string out;
  append_access_line(out, r);
  return out;
}

}  // namespace portico::observability
