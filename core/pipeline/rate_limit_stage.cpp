// The tier rate limit: the partner's quota (tier from config, per-partner override) asked of the
// snapshot's RateLimitPolicy, keyed by partner id. Sets RateLimit-Policy, RateLimit and the legacy
// X-RateLimit-* headers on every authenticated response from here on (errors included), and
// answers 429 rate_limited with Retry-After when the quota is spent.
//
// A partner whose tier is not in [tiers] is limited as "basic" (the built-in 100/min if even that
// is missing) and the operator is warned once per tier and snapshot: a typo in a tier name must
// neither lock the partner out (500) nor lift its limit.
//
// The stage records what it counted in the exchange; its after-response hook, once the final
// status is known, writes the headers from that record. A 304 Not Modified does not count
// (CONTRACT, Caching): for a 304 whose strong ETag the request's If-None-Match listed — not for
// `*` — the hook gives the request back to the policy and shows the refunded figure, so a
// revalidation carries the same X-RateLimit-Remaining as the request before it.
#include <algorithm>
#include <charconv>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/pipeline/snapshot.hpp"
#include "core/pipeline/stages.hpp"
#include "core/util/put_text.hpp"
#include "portico/sdk/etag.hpp"
#include "portico/sdk/text_key.hpp"

namespace portico::pipeline {
namespace {

std::int64_t ceil_seconds(std::chrono::milliseconds ms) {
  return ms.count() <= 0 ? 0 : (ms.count() + 999) / 1000;
}

// A structured-field string: the tier name in quotes, with " and \ escaped.
void append_sf_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

// What the rate limit's lines take from the quota alone, made for the last quota this thread
// wrote (a partner's requests come with the same one), the tier quoted and blanked of CR and LF
// once here: the text before the first remaining count (the whole RateLimit-Policy line and the
// start of the RateLimit line) and the text between the reset and the second remaining count
// (the end of the RateLimit line, X-RateLimit-Limit, the start of X-RateLimit-Remaining).
struct QuotaLines {
  std::string tier;
  std::int64_t limit = -1;
  std::int64_t window = -1;
  std::string head;    // RateLimit-Policy: "<tier>";q=<limit>;w=<window>\r\nRateLimit: "<tier>";r=
  std::string middle;  // \r\nX-RateLimit-Limit: <limit>\r\nX-RateLimit-Remaining:<SP>

  void make(const RateLimitQuota& quota, std::int64_t window_seconds) {
    tier = quota.tier;
    limit = quota.limit;
    window = window_seconds;
    head.assign("RateLimit-Policy: ");
    append_sf_string(head, quota.tier);
    head.append(";q=").append(std::to_string(quota.limit));
    head.append(";w=").append(std::to_string(window_seconds));
    blank_line_breaks(head.data(), head.data() + head.size());
    const std::size_t rate_start = head.size() + 2;
    head.append("\r\nRateLimit: ");
    append_sf_string(head, quota.tier);
    blank_line_breaks(head.data() + rate_start, head.data() + head.size());
    head.append(";r=");
    middle.assign("\r\nX-RateLimit-Limit: ").append(std::to_string(quota.limit));
    middle.append("\r\nX-RateLimit-Remaining: ");
  }
};

// Room for any 64-bit number's digits.
struct Digits {
  explicit Digits(std::int64_t value)
      : size(static_cast<std::size_t>(std::to_chars(text, text + sizeof text, value).ptr - text)) {}
  std::string_view view() const { return {text, size}; }
  char text[24];
  std::size_t size;
};

// The five headers as lines for the response head (HeaderLines), written as one piece; only
// the remaining count and the reset are formatted per answer (and the limit, when the policy
// answers with one other than the quota's).
ObservedQuota add_headers(HeaderLines& lines, const RateLimitQuota& quota,
                          const RateLimitDecision& decision) {
  const std::int64_t limit = decision.limit > 0 ? decision.limit : quota.limit;
  const std::int64_t remaining = std::max<std::int64_t>(decision.remaining, 0);
  const std::int64_t reset = ceil_seconds(decision.reset_after);
  const std::int64_t window = ceil_seconds(quota.window);
  thread_local QuotaLines made;
  if (made.limit != quota.limit || made.window != window ||
      !sdk::same_text(made.tier, quota.tier)) {
    made.make(quota, window);
  }
  const Digits remaining_digits(remaining), reset_digits(reset);
  std::string_view middle = made.middle;
  char other_middle[96];  // a policy that answers with a limit of its own: made here
  if (limit != quota.limit) {
    char* p = util::put_text(other_middle, "\r\nX-RateLimit-Limit: ");
    p = util::put_text(p, Digits(limit).view());
    p = util::put_text(p, "\r\nX-RateLimit-Remaining: ");
    middle = std::string_view(other_middle, static_cast<std::size_t>(p - other_middle));
  }
  lines.add_trusted({made.head, remaining_digits.view(), ";t=", reset_digits.view(), middle,
                     remaining_digits.view(), "\r\nX-RateLimit-Reset: ", reset_digits.view(),
                     "\r\n"});
  return {limit, remaining, reset};
}

// Only a revalidation that really matched earns the request back: a 304 carrying a strong ETag
// that If-None-Match listed, for a request the policy admitted. `*` (or a weak or unrelated tag)
// may still get a 304 from the handler, but it proves nothing and must not lift the limit.
bool refundable(const Exchange& ex, const Response& response) {
  if (response.status != 304 || !ex.rate_limit->decision.allowed) return false;
  if (!ex.snapshot.ratelimit || !ex.request.identity) return false;
  const auto etag = response.header("ETag");
  const auto wanted = ex.request.header("If-None-Match");
  return etag && wanted && sdk::if_none_match_strong_hit(*wanted, *etag);
}

Problem rate_limited(const RateLimitQuota& quota, const RateLimitDecision& decision) {
  std::int64_t retry = std::max<std::int64_t>(1, ceil_seconds(decision.retry_after));
  Problem p;
  p.status = 429;
  p.code = "rate_limited";
  p.title = "Too many requests";
  p.detail = "Rate limit exceeded: tier '" + quota.tier + "' allows " +
             std::to_string(quota.limit) + " requests per " +
             std::to_string(ceil_seconds(quota.window)) + " seconds. Retry after " +
             std::to_string(retry) + " seconds.";
  p.headers.emplace_back("Retry-After", std::to_string(retry));
  return p;
}

// The partner's quota: its tier from config (unknown tiers as "basic"), its override applied.
// `unknown_tier` is set when the tier is not configured.
RateLimitQuota quota_for(const Snapshot& snapshot, const Identity& identity, bool& unknown_tier) {
  RateLimitQuota quota;
  const config::TierConfig* tier = nullptr;
  if (snapshot.config) {
    const auto& tiers = snapshot.config->tiers;
    if (auto it = tiers.find(identity.tier); it != tiers.end()) {
      tier = &it->second;
    } else {
      unknown_tier = true;
      if (auto basic = tiers.find("basic"); basic != tiers.end()) tier = &basic->second;
    }
  } else {
    unknown_tier = true;
  }
  if (tier) {
    quota.tier = tier->name.empty() ? identity.tier : tier->name;
    quota.limit = tier->limit;
    quota.window = tier->window;
    quota.burst = tier->burst;
  } else {
    quota.tier = "basic";
    quota.limit = 100;
    quota.window = std::chrono::minutes(1);
  }
  if (identity.rate_limit_override > 0) quota.limit = identity.rate_limit_override;
  return quota;
}

class RateLimitStage final : public Stage {
 public:
  std::string_view name() const override { return "rate_limit"; }
  StageStatus run(Exchange& ex) const override {
    RateLimitPolicy* policy = ex.snapshot.ratelimit;
    const auto& identity = ex.request.identity;
    if (!policy || !identity) return StageStatus::Continue;
    // The policy answers now (acquire_now, API 3.2: the in-process policies) or through a
    // completion (API 2.0: at once, or later for one that asks another server). The key (the
    // identity's partner id) and the quota live in the exchange, which outlives the answer (the
    // completion keeps the request alive).
    bool unknown_tier = false;
    ex.quota_asked = quota_for(ex.snapshot, *identity, unknown_tier);
    if (unknown_tier) warn_unknown_tier(ex.snapshot, *identity);
    const auto now = ex.snapshot.clock();
    if (auto decision = policy->acquire_now(identity->partner_id, ex.quota_asked, now)) {
      return counted(ex, *decision);
    }
    Resumer resume = ex.suspend();
    Completion<RateLimitDecision> answered = ex.completion<RateLimitDecision>(
        [resume = std::move(resume)](RateLimitDecision&& decision, std::exception_ptr error) {
          if (error) return resume.fail(std::move(error));
          resume([decision](Exchange& ex) { return counted(ex, decision); });
        });
    policy->acquire_async(identity->partner_id, ex.quota_asked, now, std::move(answered));
    return StageStatus::Pending;
  }

  // Every response after the count carries its figures, errors and 429s included.
  void after_response(Exchange& ex, const Response& response) const override {
    if (!ex.rate_limit) return;
    RateLimitDecision shown = ex.rate_limit->decision;
    if (refundable(ex, response)) {
      ex.snapshot.ratelimit->refund(ex.request.identity->partner_id, ex.rate_limit->quota,
                                    ex.snapshot.clock());
      const std::int64_t limit = shown.limit > 0 ? shown.limit : ex.rate_limit->quota.limit;
      shown.remaining = std::min(shown.remaining + 1, limit);
    }
    ex.shown_quota = add_headers(ex.core_headers, ex.rate_limit->quota, shown);
  }

 private:
  // The policy's decision, given now or later: recorded for the headers; a refusal is the 429.
  static StageStatus counted(Exchange& ex, const RateLimitDecision& decision) {
    ex.rate_limit = Exchange::Counted{ex.quota_asked, decision};
    if (decision.allowed) return StageStatus::Continue;
    throw ProblemError(rate_limited(ex.quota_asked, decision));
  }

  // Only partners on an unknown tier come here, so the mutex is off the common path.
  void warn_unknown_tier(const Snapshot& snapshot, const Identity& identity) const {
    {
      std::lock_guard lock(warned_mutex_);
      if (!warned_tiers_.insert(identity.tier).second) return;
    }
    if (snapshot.on_warning) {
      snapshot.on_warning("partner " + identity.partner_id + " has tier '" + identity.tier +
                          "', which is not configured in [tiers]; limiting it as 'basic'");
    }
  }

  mutable std::mutex warned_mutex_;
  mutable std::set<std::string> warned_tiers_;
};

}  // namespace

std::unique_ptr<Stage> rate_limit_stage() {
  return std::make_unique<RateLimitStage>();
}

}  // namespace portico::pipeline
