// ClientGuard::check_lockout (the admin listener's question: only the lockout, no per-IP limit) and
// guard_refusal, the 429 both listeners answer.
#include <gtest/gtest.h>

#include "core/pipeline/client_guard.hpp"

namespace portico::pipeline {
namespace {

using namespace std::chrono_literals;
using Outcome = GuardDecision::Outcome;

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  ClientGuard::Clock clock() {
    return [this] { return now; };
  }
};

config::SecurityConfig settings() {
  config::SecurityConfig s;
  s.client_ip_limit = 2;
  s.auth_failure_limit = 3;
  s.auth_failure_window = 60s;
  s.lockout = 15min;
  return s;
}

TEST(ClientGuardCheckLockout, RefusesOnlyALockedOutAddressAndCountsNoRequest) {
  FakeClock time;
  ClientGuard guard(time.clock());
  auto s = settings();
  // Never limited by the per-IP request limit, and it tracks no new address.
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(guard.check_lockout("192.0.2.1").outcome, Outcome::allowed);
  EXPECT_EQ(guard.tracked_clients(), 0u);
  EXPECT_EQ(guard.admit("192.0.2.1", s).outcome, Outcome::allowed);  // nothing was counted
  for (int i = 0; i < 3; ++i) guard.record_auth_failure("192.0.2.1", s);
  GuardDecision locked = guard.check_lockout("192.0.2.1");
  EXPECT_EQ(locked.outcome, Outcome::locked_out);
  EXPECT_EQ(locked.retry_after, 15min);
  EXPECT_EQ(guard.locked_out_requests(), 1u);
  EXPECT_EQ(guard.check_lockout("192.0.2.2").outcome, Outcome::allowed);
  time.now += 15min;
  EXPECT_EQ(guard.check_lockout("192.0.2.1").outcome, Outcome::allowed);
}

TEST(ClientGuardCheckLockout, RefusalIsThe429WithRetryAfterInWholeSeconds) {
  GuardDecision decision;
  decision.outcome = Outcome::locked_out;
  decision.retry_after = 1500ms;
  Problem p = guard_refusal(decision, settings());
  EXPECT_EQ(p.status, 429);
  EXPECT_EQ(p.code, "too_many_auth_failures");
  ASSERT_EQ(p.headers.size(), 1u);
  EXPECT_EQ(p.headers[0], (std::pair<std::string, std::string>{"Retry-After", "2"}));
  decision.outcome = Outcome::rate_limited;
  EXPECT_EQ(guard_refusal(decision, settings()).code, "rate_limited");
}

}  // namespace
}  // namespace portico::pipeline
