// Durations ("1m30s") and sizes ("16KiB") parsed from config strings and formatted for messages.
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.hpp"
#include "core/config/units.hpp"

namespace portico::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

// Largest first: a duration's parts must follow this order, each at most once ("1h30m").
constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

constexpr std::array<Unit, 10> kSizeUnits{{
    {"", 1},
    {"B", 1},
    {"KB", 1'000},
    {"MB", 1'000'000},
    {"GB", 1'000'000'000},
    {"TB", 1'000'000'000'000},
    {"KiB", std::uint64_t{1} << 10},
    {"MiB", std::uint64_t{1} << 20},
    {"GiB", std::uint64_t{1} << 30},
    {"TiB", std::uint64_t{1} << 40},
}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Reads the digits at `pos`; nullopt when there are none or they overflow.
std::optional<std::uint64_t> read_number(std::string_view text, std::size_t& pos) {
  std::size_t start = pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  if (pos == start) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data() + start, text.data() + pos, value);
  if (error != std::errc{} || end != text.data() + pos) return std::nullopt;
  return value;
}

// number * factor + total, or nullopt when it does not fit `limit`.
std::optional<std::uint64_t> accumulate(std::uint64_t total, std::uint64_t number,
                                        std::uint64_t factor, std::uint64_t limit) {
  if (number > (limit - total) / factor) return std::nullopt;
  return total + number * factor;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  constexpr auto kLimit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (text.empty()) return std::nullopt;
  std::uint64_t total = 0;
  std::size_t next_unit = 0;  // index into kDurationUnits of the largest unit still allowed
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto number = read_number(text, pos);
    if (!number) return std::nullopt;
    std::size_t unit_start = pos;
    while (pos < text.size() && is_letter(text[pos])) ++pos;
    std::string_view suffix = text.substr(unit_start, pos - unit_start);
    std::size_t unit = next_unit;
    while (unit < kDurationUnits.size() && kDurationUnits[unit].suffix != suffix) ++unit;
    if (unit == kDurationUnits.size()) return std::nullopt;
    auto sum = accumulate(total, *number, kDurationUnits[unit].factor, kLimit);
    if (!sum) return std::nullopt;
    total = *sum;
    next_unit = unit + 1;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(total));
}

std::optional<std::size_t> parse_size(std::string_view text) {
  std::size_t pos = 0;
  auto number = read_number(text, pos);
  if (!number) return std::nullopt;
  std::string_view suffix = text.substr(pos);
  for (const auto& unit : kSizeUnits) {
    if (unit.suffix != suffix) continue;
    auto bytes = accumulate(0, *number, unit.factor, std::numeric_limits<std::size_t>::max());
    if (!bytes) return std::nullopt;
    return static_cast<std::size_t>(*bytes);
  }
  return std::nullopt;
}

std::string format_duration(std::int64_t milliseconds) {
  if (milliseconds <= 0) return std::to_string(milliseconds) + "ms";
  auto remaining = static_cast<std::uint64_t>(milliseconds);
  std::string text;
  for (const auto& unit : kDurationUnits) {
    if (remaining / unit.factor == 0) continue;
    text += std::to_string(remaining / unit.factor);
    text += unit.suffix;
    remaining %= unit.factor;
  }
  return text;
}

std::string format_size(std::uint64_t bytes) {
  constexpr std::array<Unit, 4> kBinaryUnits{{
      {"TiB", std::uint64_t{1} << 40},
      {"GiB", std::uint64_t{1} << 30},
      {"MiB", std::uint64_t{1} << 20},
      {"KiB", std::uint64_t{1} << 10},
  }};
  for (const auto& unit : kBinaryUnits) {
    if (bytes != 0 && bytes % unit.factor == 0) {
      return std::to_string(bytes / unit.factor) + std::string(unit.suffix);
    }
  }
  return std::to_string(bytes);
}

}  // namespace portico::config
