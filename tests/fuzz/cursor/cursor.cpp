// Fuzz target: pagination cursors. The first byte picks what the rest is:
//   0  a cursor and (after a newline) a filter key, decoded by a codec keyed with HMAC-SHA256 as
//      the plugins key theirs: nothing may throw, and a cursor it accepts has one spelling;
//   1  the same with a MAC that is always zero bytes, so crafted input reaches the checks behind
//      the MAC (prefix, filter hash, position);
//   2  a position and a filter key: encode, then decode must give the position back, a cursor
//      with one character changed must be refused, and another filter key must be told apart;
//   3  a raw query string read by the products and orders list queries (limit, cursor, filters),
//      whose cursor goes through sdk::cursor_position and the orders' keyset position;
//   4  a cursor of the partners admin lists (core/partners request_checks, unsigned base64url
//      "created_at|id"): a ProblemError 400 or the position, which must encode back to itself.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/partners/request_checks.hpp"
#include "plugins/routes_orders/order_query.hpp"
#include "plugins/routes_products/list_query.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/cursor.hpp"
#include "portico/sdk/query.hpp"
#include "portico/sdk/sodium.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace fuzz = portico::fuzz;
namespace sdk = portico::sdk;

const sdk::CursorCodec& signed_codec() {
  static const sdk::CursorCodec codec([](std::string_view message) {
    return sdk::hmac_sha256("fuzz-cursor-mac-key-0123456789abcdef", message);
  });
  return codec;
}

const sdk::CursorCodec& zero_mac_codec() {
  static const sdk::CursorCodec codec(
      [](std::string_view) { return std::string(sdk::kCursorTagBytes, '\0'); });
  return codec;
}

void decode_only(const sdk::CursorCodec& codec, std::string_view rest) {
  const auto parts = fuzz::split(rest, '\n', 2);
  const std::string_view filter = parts.size() > 1 ? parts[1] : std::string_view{};
  const auto decoded = codec.decode(parts[0], filter);
  if (const auto* position = std::get_if<std::string>(&decoded)) {
    // Cursors have one spelling: the decoded position encodes back to the same text.
    fuzz::check(codec.encode(*position, filter) == parts[0], "a cursor has two spellings");
  }
}

void round_trip(std::string_view rest) {
  const auto parts = fuzz::split(rest, '\n', 2);
  const std::string_view position = parts[0];
  const std::string_view filter = parts.size() > 1 ? parts[1] : std::string_view{};
  const sdk::CursorCodec& codec = signed_codec();
  const std::string cursor = codec.encode(position, filter);
  const auto decoded = codec.decode(cursor, filter);
  if (cursor.size() > 512) {  // longer cursors are refused outright
    fuzz::check(std::holds_alternative<sdk::CursorError>(decoded), "an over-long cursor decoded");
    return;
  }
  const auto* back = std::get_if<std::string>(&decoded);
  fuzz::check(back && *back == position, "a cursor does not decode to its position");

  std::string tampered = cursor;
  const std::size_t at = position.size() % tampered.size();
  tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
  fuzz::check(!std::holds_alternative<std::string>(codec.decode(tampered, filter)),
              "a tampered cursor decoded");

  const std::string other = std::string(filter) + "\x1f" + "status=active";
  if (sdk::detail::fnv64_hex(other) != sdk::detail::fnv64_hex(filter)) {
    const auto moved = codec.decode(cursor, other);
    fuzz::check(std::holds_alternative<sdk::CursorError>(moved) &&
                    std::get<sdk::CursorError>(moved) == sdk::CursorError::other_filters,
                "a cursor was accepted for other filters");
  }
}

void list_queries(std::string_view raw) {
  std::vector<portico::FieldError> errors;
  const auto products = portico::routes_products::parse_list_query(raw, errors);
  fuzz::check(products.limit >= 1 && products.limit <= sdk::kMaxPageLimit, "limit out of range");
  if (errors.empty() && products.cursor) {
    (void)sdk::cursor_position(signed_codec(), *products.cursor, products.filter_key(),
                               "category, status, q and updated_since", errors);
  }
  errors.clear();
  const auto orders = portico::routes_orders::parse_order_list_query(raw, errors);
  if (errors.empty() && orders.cursor) {
    for (const sdk::CursorCodec* codec : {&signed_codec(), &zero_mac_codec()}) {
      std::vector<portico::FieldError> cursor_errors;
      if (auto position =
              sdk::cursor_position(*codec, *orders.cursor, orders.filter_key(),
                                   portico::routes_orders::kOrderListFilterNames, cursor_errors)) {
        if (auto keyset = portico::routes_orders::decode_order_position(*position)) {
          fuzz::check(!keyset->created_at.empty() && !keyset->id.empty(),
                      "an empty keyset position");
        }
      }
    }
  }
  if (!errors.empty()) {
    fuzz::expect_only<portico::ProblemError>([&] { throw sdk::invalid_query(errors); });
  }
}

// The admin lists' cursors (core/partners/request_checks.hpp, on sdk::CursorCodec): anything is
// a 400 or a position, and a position's cursor has one spelling (crashes/
// partners_cursor_high_bytes.txt: libsodium 1.0.18 took bytes 0x80-0xFF for base64 digits).
void partners_cursor(std::string_view cursor) {
  static const portico::partners::AdminCursors cursors(std::string(32, 'k'));
  fuzz::expect_only<portico::ProblemError>([&] {
    const auto position = cursors.decode(cursor, "partners");
    fuzz::check(cursors.encode(position, "partners") == cursor,
                "a partners cursor has two spellings");
  });
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sdk::initialise_sodium();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = fuzz::as_text(data + 1, size - 1);
  fuzz::expect_only<fuzz::Never>([&] {
    switch (data[0] % 5) {
      case 0: decode_only(signed_codec(), rest); break;
      case 1: decode_only(zero_mac_codec(), rest); break;
      case 2: round_trip(rest); break;
      case 3: list_queries(rest); break;
      default: partners_cursor(rest); break;
    }
  });
  return 0;
}
