// Event types and endpoint filters: the contract's list, exact types, prefix wildcards, "*", and
// refusals with did-you-mean hints.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "webhooks_common/event_types.hpp"

namespace {

using namespace portico::webhooks;

std::string only_error(const std::vector<std::string>& filters) {
  const std::vector<portico::FieldError> errors = validate_filters(filters);
  EXPECT_EQ(errors.size(), 1u);
  return errors.empty() ? "" : errors[0].field + ": " + errors[0].message;
}

TEST(EventTypes, AreTheContractsPlusEndpointDisabled) {
  for (std::string_view type : {"order.created", "order.status_changed", "order.cancelled",
                                "order.shipped", "order.delivered", "inventory.changed",
                                "product.updated", "webhook.test", "webhook.endpoint_disabled"}) {
    EXPECT_TRUE(is_known_type(type)) << type;
  }
  EXPECT_EQ(kEventTypes.size(), 9u);
  EXPECT_FALSE(is_known_type("order.updated"));
  EXPECT_FALSE(is_known_type("Order.Created"));
  EXPECT_FALSE(is_known_type("order.*"));
  EXPECT_FALSE(is_known_type(""));
}

TEST(Filters, ValidOnesPass) {
  EXPECT_TRUE(validate_filters({"*"}).empty());
  EXPECT_TRUE(validate_filters({"order.*"}).empty());
  EXPECT_TRUE(validate_filters({"order.created", "inventory.*", "product.updated"}).empty());
  EXPECT_TRUE(validate_filters({"webhook.*", "webhook.endpoint_disabled"}).empty());
  EXPECT_TRUE(validate_filters({"order.shipped", "order.shipped"}).empty());  // duplicates
  for (std::string_view type : kEventTypes) EXPECT_TRUE(is_valid_filter(type)) << type;
}

TEST(Filters, UnknownTypesGetADidYouMean) {
  EXPECT_EQ(only_error({"order.create"}),
            "events[0]: unknown event type 'order.create'; did you mean 'order.created'?");
  EXPECT_EQ(only_error({"order.created", "Order.Shipped"}),
            "events[1]: unknown event type 'Order.Shipped'; did you mean 'order.shipped'?");
  EXPECT_EQ(only_error({"inventory.change"}),
            "events[0]: unknown event type 'inventory.change'; did you mean "
            "'inventory.changed'?");
  EXPECT_EQ(only_error({"order.canceled"}),
            "events[0]: unknown event type 'order.canceled'; did you mean 'order.cancelled'?");
  EXPECT_EQ(only_error({"order.statuschanged"}),
            "events[0]: unknown event type 'order.statuschanged'; did you mean "
            "'order.status_changed'?");
  EXPECT_EQ(only_error({"payment.refunded"}), "events[0]: unknown event type 'payment.refunded'");
  EXPECT_EQ(only_error({"order"}),
            "events[0]: unknown event type 'order'; did you mean 'order.*'?");
}

TEST(Filters, WildcardsMustMatchSomething) {
  EXPECT_EQ(only_error({"orders.*"}),
            "events[0]: 'orders.*' matches no event type; did you mean 'order.*'?");
  EXPECT_EQ(only_error({"order.status.*"}), "events[0]: 'order.status.*' matches no event type");
  EXPECT_EQ(only_error({"payment.*"}), "events[0]: 'payment.*' matches no event type");
}

TEST(Filters, OtherPatternsAreUnsupported) {
  for (std::string_view pattern :
       {"*.created", "order*", "ord*.created", "**", "order.**", ".*", "order.crea*"}) {
    const std::string error = only_error({std::string(pattern)});
    EXPECT_NE(error.find("unsupported pattern"), std::string::npos) << pattern << ": " << error;
  }
  EXPECT_EQ(only_error({"order*"}),
            "events[0]: unsupported pattern 'order*': use an exact event type, a prefix wildcard "
            "like 'order.*', or '*'; did you mean 'order.*'?");
}

TEST(Filters, EmptyListOrEmptyFilterIsRefused) {
  const auto errors = validate_filters({});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "events");
  EXPECT_EQ(only_error({""}), "events[0]: must not be empty");
}

TEST(Filters, EveryProblemIsReportedWithItsIndexAndTheFieldName) {
  const auto errors =
      validate_filters({"order.created", "nope.*", "order.shiped", "*", "x*y"}, "body.events");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].field, "body.events[1]");
  EXPECT_EQ(errors[1].field, "body.events[2]");
  EXPECT_EQ(errors[1].message, "unknown event type 'order.shiped'; did you mean 'order.shipped'?");
  EXPECT_EQ(errors[2].field, "body.events[4]");
}

TEST(Matches, ExactPrefixAndStar) {
  EXPECT_TRUE(matches("*", "order.created"));
  EXPECT_TRUE(matches("*", "webhook.endpoint_disabled"));
  EXPECT_TRUE(matches("order.*", "order.created"));
  EXPECT_TRUE(matches("order.*", "order.status_changed"));
  EXPECT_FALSE(matches("order.*", "inventory.changed"));
  EXPECT_FALSE(matches("order.*", "orders.created"));
  EXPECT_FALSE(matches("order.*", "order"));
  EXPECT_TRUE(matches("order.shipped", "order.shipped"));
  EXPECT_FALSE(matches("order.shipped", "order.shipped_late"));
  EXPECT_FALSE(matches("order.shipped", "order.delivered"));
  EXPECT_FALSE(matches("Order.Shipped", "order.shipped"));

  const std::vector<std::string> filters = {"order.shipped", "inventory.*"};
  EXPECT_TRUE(matches(filters, "order.shipped"));
  EXPECT_TRUE(matches(filters, "inventory.changed"));
  EXPECT_FALSE(matches(filters, "order.created"));
  EXPECT_FALSE(matches(filters, "product.updated"));
  EXPECT_FALSE(matches(std::vector<std::string>{}, "order.created"));
}

}  // namespace
