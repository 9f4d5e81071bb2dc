// Page cursors: they round-trip, any change to one is refused, a cursor from another key is
// refused, and a genuine cursor used with other filters is told apart.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "portico/sdk/cursor.hpp"

namespace {

using portico::sdk::CursorCodec;
using portico::sdk::CursorError;
namespace detail = portico::sdk::detail;

// A keyed function good enough to exercise the codec (the plugin injects HMAC-SHA256).
portico::sdk::MacFunction keyed(std::string key) {
  return [key](std::string_view message) {
    std::string tag;
    std::size_t h = std::hash<std::string>{}(key + std::string(message));
    for (int round = 0; round < 4; ++round) {
      h = std::hash<std::string>{}(key + std::to_string(h) + std::string(message));
      for (int i = 0; i < 8; ++i) tag.push_back(static_cast<char>((h >> (8 * i)) & 0xFF));
    }
    return tag;
  };
}

const CursorCodec kCodec(keyed("secret"));
const std::string kFilters = "=audio\x1f-\x1f-\x1f-\x1f";

std::string decoded_id(const CursorCodec& codec, const std::string& cursor,
                       const std::string& filters = kFilters) {
  auto result = codec.decode(cursor, filters);
  auto* id = std::get_if<std::string>(&result);
  return id ? *id : "<refused>";
}

TEST(CursorCodec, RoundTripsTheLastId) {
  for (std::string id : std::vector<std::string>{"prod_0001", "a", "prod_zzzzzzzzzzzzzzzzzzzzzzzz",
                                                 std::string(64, 'x')}) {
    std::string cursor = kCodec.encode(id, kFilters);
    EXPECT_EQ(decoded_id(kCodec, cursor), id);
    EXPECT_EQ(cursor.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << "URL-safe without escaping: " << cursor;
  }
}

TEST(CursorCodec, IsOpaque) {
  std::string cursor = kCodec.encode("prod_0042", kFilters);
  EXPECT_EQ(cursor.find("prod"), std::string::npos);
}

TEST(CursorCodec, EveryAlteredCharacterIsRefused) {
  const std::string cursor = kCodec.encode("prod_0042", kFilters);
  for (std::size_t i = 0; i < cursor.size(); ++i) {
    for (char replacement : {'A', 'z', '0', '-', '_'}) {
      if (cursor[i] == replacement) continue;
      std::string tampered = cursor;
      tampered[i] = replacement;
      auto result = kCodec.decode(tampered, kFilters);
      ASSERT_TRUE(std::holds_alternative<CursorError>(result)) << "position " << i;
      EXPECT_EQ(std::get<CursorError>(result), CursorError::malformed);
    }
  }
}

TEST(CursorCodec, TruncatedExtendedAndForeignCursorsAreRefused) {
  const std::string cursor = kCodec.encode("prod_0042", kFilters);
  EXPECT_EQ(decoded_id(kCodec, cursor.substr(0, cursor.size() - 1)), "<refused>");
  EXPECT_EQ(decoded_id(kCodec, cursor.substr(0, 10)), "<refused>");
  EXPECT_EQ(decoded_id(kCodec, cursor + "A"), "<refused>");
  EXPECT_EQ(decoded_id(kCodec, cursor + "AAAA"), "<refused>");
  CursorCodec other(keyed("another secret"));
  EXPECT_EQ(decoded_id(other, cursor), "<refused>");
}

TEST(CursorCodec, GarbageIsRefused) {
  for (std::string garbage :
       std::vector<std::string>{"", "x", "abc=", "!!!!", "cHJvZF8wMDQy",
                                "c1\x1f"
                                "0000000000000000",
                                std::string(600, 'A'), "eyJpZCI6InByb2RfMSJ9"}) {
    auto result = kCodec.decode(garbage, kFilters);
    ASSERT_TRUE(std::holds_alternative<CursorError>(result)) << garbage;
    EXPECT_EQ(std::get<CursorError>(result), CursorError::malformed) << garbage;
  }
}

TEST(CursorCodec, AGenuineCursorWithOtherFiltersIsToldApart) {
  const std::string cursor = kCodec.encode("prod_0042", kFilters);
  auto result = kCodec.decode(cursor, "=kitchen\x1f-\x1f-\x1f-\x1f");
  ASSERT_TRUE(std::holds_alternative<CursorError>(result));
  EXPECT_EQ(std::get<CursorError>(result), CursorError::other_filters);
}

TEST(CursorCodec, Base64UrlRoundTripsEveryLengthAndHasOneSpelling) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    std::string encoded = detail::base64url_encode(bytes);
    auto back = detail::base64url_decode(encoded);
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(*back, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 11));
  }
  EXPECT_FALSE(detail::base64url_decode("QR"));  // "Q" then non-zero leftover bits
  EXPECT_TRUE(detail::base64url_decode("QQ"));
  EXPECT_FALSE(detail::base64url_decode("QUJD="));
  EXPECT_FALSE(detail::base64url_decode("A"));
}

// The filters' text is unambiguous: absent, empty and escaped values all differ, and a value
// without 0x1f or 0x1b is written as it is (cursors issued before the escape stay valid).
TEST(CursorFilters, EveryFilterSetWritesItsOwnText) {
  auto text = [](std::initializer_list<std::optional<std::string>> filters) {
    std::string key;
    for (const auto& filter : filters) portico::sdk::append_filter(key, filter);
    return key;
  };
  EXPECT_EQ(text({std::nullopt, std::string("b")}), "-\x1f=b\x1f");
  EXPECT_NE(text({std::nullopt}), text({std::string("")}));
  EXPECT_NE(text({std::string("a\x1f=b"), std::nullopt}), text({std::string("a"), std::string("b")}));
  EXPECT_EQ(text({std::string("a\x1f")}), "=a\x1b\x1f\x1f");
  EXPECT_NE(text({std::string("\x1b\x1f")}), text({std::string("\x1f")}));
}

}  // namespace
