// A reload that changes the algorithm (sliding window ↔ token bucket). The new policy never shows
// more remaining than the old one would have, and stays about as strict: a partner under its limit
// is not refused because of the reload. Afterwards it counts its own way. A window holds a
// bucket's debt as long as the bucket would have, so it admits no more than the bucket would
// have. A bucket owes a window's hits as if just made and gives them back one per interval, so it
// admits no more than it would have with the same counts — which can be more than the window,
// which would have held them to the end of their window. The built libraries hand over too.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "plugins/ratelimit_common/sliding_window.hpp"
#include "plugins/ratelimit_token_bucket/gcra.hpp"
#include "tests/unit/plugins/built_plugin.hpp"
#include "tests/unit/plugins/ratelimit_handoff/handoff_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace portico::test::handoff;
using portico::RateLimitDecision;
using portico::RateLimitPolicy;
using portico::RateLimitQuota;
using portico::ratelimit_sliding_window::SlidingWindowLimiter;
using portico::ratelimit_token_bucket::TokenBucketLimiter;
using portico::test::BuiltPlugin;

const RateLimitQuota kBasic{"basic", 100, 60s, 0};
const RateLimitQuota kPremium{"premium", 1000, 60s, 0};

struct Scenario {
  std::string name;
  std::vector<Clock::time_point> history;
  Clock::time_point handoff;
};

std::vector<Scenario> scenarios() {
  std::vector<Scenario> all = {
      {"a burst early in the window", burst(kStart + 2s, 50), kStart + 30s},
      {"a full burst a moment before", burst(kStart + 50s, 100), kStart + 50s + 300ms},
      {"a full burst long before", burst(kStart + 1s, 100), kStart + 58s},
      {"steady at 80 %", steady(kStart, 120s, 750ms), kStart + 120s + 10ms},
      {"steady at the limit", steady(kStart, 120s, 600ms), kStart + 120s + 300ms},
      {"steady at twice the limit", steady(kStart, 120s, 300ms), kStart + 120s + 10ms},
      {"a burst after steady traffic",
       joined(steady(kStart, 60s, 1'500ms), burst(kStart + 60s, 40)), kStart + 61s},
  };
  for (unsigned seed = 1; seed <= 6; ++seed) {
    all.push_back({"bursty, seed " + std::to_string(seed), bursty(kStart, 100s, 2'500ms, 6, seed),
                   kStart + 100s + 654'321ns});
  }
  return all;
}

// Counts `history` on the exporter, hands over at the handoff, then offers both the same rest of
// the window: a burst at once and a request every 50 ms. The importer must show no more remaining
// than the exporter at the handoff, and admit no more than either policy would have given the
// partner: the exporter, or the importer's own algorithm had it counted what the exporter admitted
// (its reference). `than_exporter`: no more than the exporter itself (within one).
template <class Exporter, class Importer>
void expect_conservative(const Scenario& scenario, const RateLimitQuota& quota,
                         bool than_exporter) {
  SCOPED_TRACE(scenario.name);
  Exporter exporter;
  Importer importer;
  Importer reference;
  for (Clock::time_point at : scenario.history) {
    if (exporter.acquire("p", quota, at).allowed) reference.acquire("p", quota, at);
  }
  importer.import_usage(exporter.export_usage(scenario.handoff), scenario.handoff);

  const RateLimitDecision would_have = exporter.acquire("p", quota, scenario.handoff);
  const RateLimitDecision first = importer.acquire("p", quota, scenario.handoff);
  const RateLimitDecision own = reference.acquire("p", quota, scenario.handoff);
  EXPECT_LE(first.remaining, would_have.remaining)
      << "after the handoff " << describe(first) << ", without it " << describe(would_have);
  EXPECT_FALSE(first.allowed && !would_have.allowed);

  const auto rest = joined(burst(scenario.handoff, 2 * static_cast<int>(quota.limit)),
                           steady(scenario.handoff + 50ms, quota.window - 50ms, 50ms));
  const int by_exporter = admitted(exporter, "p", quota, rest) + (would_have.allowed ? 1 : 0);
  const int by_importer = admitted(importer, "p", quota, rest) + (first.allowed ? 1 : 0);
  const int by_reference = admitted(reference, "p", quota, rest) + (own.allowed ? 1 : 0);
  const std::string counts = "the rest of the window: " + std::to_string(by_importer) +
                             " admitted after the handoff, " + std::to_string(by_exporter) +
                             " without it, " + std::to_string(by_reference) + " by the reference";
  EXPECT_LE(by_importer, std::max(by_exporter, by_reference) + 1) << counts;
  if (than_exporter) {
    EXPECT_LE(by_importer, by_exporter + 1) << counts;
  }
}

TEST(CrossAlgorithmHandoff, SlidingWindowToTokenBucketNeverGrantsMore) {
  for (const Scenario& scenario : scenarios()) {
    expect_conservative<SlidingWindowLimiter, TokenBucketLimiter>(scenario, kBasic, false);
  }
}

TEST(CrossAlgorithmHandoff, TokenBucketToSlidingWindowNeverGrantsMore) {
  for (const Scenario& scenario : scenarios()) {
    expect_conservative<TokenBucketLimiter, SlidingWindowLimiter>(scenario, kBasic, true);
  }
}

TEST(CrossAlgorithmHandoff, APremiumTierNeverGetsMoreEitherWay) {
  std::vector<Scenario> premium = {
      {"a burst early in the window", burst(kStart + 2s, 500), kStart + 30s},
      {"a full burst a moment before", burst(kStart + 50s, 1000), kStart + 50s + 300ms},
      {"steady at 80 %", steady(kStart, 120s, 75ms), kStart + 120s + 10ms},
      {"bursty", bursty(kStart, 100s, 250ms, 6, 5), kStart + 100s + 654'321ns},
  };
  for (const Scenario& scenario : premium) {
    expect_conservative<SlidingWindowLimiter, TokenBucketLimiter>(scenario, kPremium, false);
    expect_conservative<TokenBucketLimiter, SlidingWindowLimiter>(scenario, kPremium, true);
  }
}

// About as strict: after the handoff the importer admits of `rest` at most `most_fewer` fewer
// than the exporter would have.
template <class Exporter, class Importer>
void expect_about_as_strict(const RateLimitQuota& quota,
                            const std::vector<Clock::time_point>& history,
                            Clock::time_point handoff, const std::vector<Clock::time_point>& rest,
                            int most_fewer) {
  Exporter exporter;
  Importer importer;
  for (Clock::time_point at : history) exporter.acquire("p", quota, at);
  importer.import_usage(exporter.export_usage(handoff), handoff);
  const int by_exporter = admitted(exporter, "p", quota, rest);
  EXPECT_GE(admitted(importer, "p", quota, rest), by_exporter - most_fewer)
      << "of " << rest.size() << " offered, " << by_exporter << " without the handoff";
}

TEST(CrossAlgorithmHandoff, APartnerUnderItsLimitIsNotRefusedBecauseOfTheReload) {
  for (const Clock::duration every : {Clock::duration(750ms), Clock::duration(630ms)}) {
    const auto history = steady(kStart, 120s, every);
    const auto rest = steady(kStart + 120s, 120s, every);
    expect_about_as_strict<SlidingWindowLimiter, TokenBucketLimiter>(kBasic, history, kStart + 120s,
                                                                     rest, 0);
    expect_about_as_strict<TokenBucketLimiter, SlidingWindowLimiter>(kBasic, history, kStart + 120s,
                                                                     rest, 0);
  }
  const auto premium_history = steady(kStart, 120s, 75ms);
  const auto premium_rest = steady(kStart + 120s, 120s, 75ms);
  expect_about_as_strict<SlidingWindowLimiter, TokenBucketLimiter>(kPremium, premium_history,
                                                                   kStart + 120s, premium_rest, 0);
  expect_about_as_strict<TokenBucketLimiter, SlidingWindowLimiter>(kPremium, premium_history,
                                                                   kStart + 120s, premium_rest, 0);
  // Batches of 40 every 30 s: the token bucket takes them all, as it would have anyway.
  std::vector<Clock::time_point> batches;
  for (int k = 0; k < 12; ++k) batches = joined(batches, burst(kStart + k * 30s, 40));
  const std::vector<Clock::time_point> before(batches.begin(), batches.begin() + 6 * 40);
  const std::vector<Clock::time_point> after(batches.begin() + 6 * 40, batches.end());
  expect_about_as_strict<SlidingWindowLimiter, TokenBucketLimiter>(kBasic, before, kStart + 165s,
                                                                   after, 0);
}

TEST(CrossAlgorithmHandoff, ATokenBucketsDebtComesBackToAWindowAboutAsFast) {
  // A full bucket spent, then the limit rate: the window gives the requests back as the bucket
  // would have, give or take a bucket's worth (the hits go into 1 s buckets).
  const auto history = joined(burst(kStart, 100), steady(kStart + 600ms, 30s, 600ms));
  expect_about_as_strict<TokenBucketLimiter, SlidingWindowLimiter>(
      kBasic, history, kStart + 30s, steady(kStart + 30s, 60s, 600ms), 100 / 60 + 2);
  expect_about_as_strict<TokenBucketLimiter, SlidingWindowLimiter>(
      kBasic, history, kStart + 30s,
      joined(burst(kStart + 30s, 150), steady(kStart + 31s, 60s, 100ms)), 100 / 60 + 2);
}

TEST(CrossAlgorithmHandoff, ThePoliciesInTheBuiltLibrariesHandOverToEachOther) {
  BuiltPlugin window_library("ratelimit_sliding_window.so");
  BuiltPlugin bucket_library("ratelimit_token_bucket.so");
  ASSERT_TRUE(window_library.loaded()) << window_library.error();
  ASSERT_TRUE(bucket_library.loaded()) << bucket_library.error();
  for (const bool from_window : {true, false}) {
    SCOPED_TRACE(from_window ? "sliding window → token bucket" : "token bucket → sliding window");
    std::unique_ptr<portico::Plugin> from =
        (from_window ? window_library : bucket_library).create();
    std::unique_ptr<portico::Plugin> to = (from_window ? bucket_library : window_library).create();
    RateLimitPolicy& outgoing = *from->ratelimit();
    RateLimitPolicy& incoming = *to->ratelimit();
    EXPECT_EQ(passing_now(outgoing, "p", kBasic, kStart), 100);
    for (int i = 0; i < 30; ++i) outgoing.acquire("q", kBasic, kStart + 9s);
    const Clock::time_point handoff = kStart + 10s;
    incoming.import_usage(outgoing.export_usage(handoff), handoff);
    // The window still holds all 100 (and 30); the bucket has given back 16 of them (and 1).
    EXPECT_EQ(passing_now(incoming, "p", kBasic, handoff), from_window ? 0 : 16);
    EXPECT_EQ(passing_now(incoming, "q", kBasic, handoff), from_window ? 70 : 71);
    EXPECT_EQ(passing_now(incoming, "fresh", kBasic, handoff), 100);
  }
}

}  // namespace
