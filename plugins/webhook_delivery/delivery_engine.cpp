#include "plugins/webhook_delivery/delivery_engine.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <unistd.h>
#include <map>
#include <unordered_set>

#include "plugins/webhook_delivery/signed_request.hpp"
#include "portico/sdk/sodium.hpp"
#include "portico/sdk/time.hpp"
#include "webhooks_common/secrets_at_rest.hpp"
#include "lib/webhook_signing/signing.hpp"
#include "webhooks_common/target_guard.hpp"

namespace portico::webhook_delivery {

namespace {

constexpr std::size_t kPayloadCacheSize = 4096;
constexpr std::size_t kSigningKeyCacheSize = 1024;
constexpr std::size_t kSecretCacheSize = 4096;
// The attempt's error when an endpoint's secrets do not open (the operator log says why).
constexpr const char* kKeysUnavailable =
    "not sent: the gateway cannot read this endpoint's signing secret (reported to the operator)";
constexpr int kFanOutBatchesPerStep = 4;

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

namespace {

// "<host>/": what every lease owner named on this host starts with.
std::string host_prefix() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost/";
  return std::string(name) + "/";
}

// The pid of a lease owner named on this host ("<host>/<pid>/…"), if the name says one.
std::optional<pid_t> pid_of(const std::string& owner, const std::string& prefix) {
  if (!owner.starts_with(prefix)) return std::nullopt;
  const std::string rest = owner.substr(prefix.size());
  const auto slash = rest.find('/');
  try {
    std::size_t used = 0;
    const long pid = std::stol(rest.substr(0, slash), &used);
    if (used != rest.substr(0, slash).size() || pid <= 0) return std::nullopt;
    return static_cast<pid_t>(pid);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

void DeliveryEngine::renew_leases() {
  const auto steady = std::chrono::steady_clock::now();
  if (flights_.empty() || steady - last_renewal_ < settings_.lease / 3) return;
  last_renewal_ = steady;
  const std::int64_t until_ms = unix_ms(host_.now()) + settings_.lease.count();
  host_.database().transaction([&](Session& tx) { renew_deliveries(tx, owner_, until_ms); });
}

void DeliveryEngine::take_over_dead_owners() {
  Database& db = host_.database();
  for (auto it = swept_owners_.begin(); it != swept_owners_.end();) {
    const std::string& owner = *it;
    const auto pid = owner == owner_ ? std::nullopt : pid_of(owner, host_prefix_);
    if (!pid || kill(*pid, 0) == 0 || errno != ESRCH) {  // ours, alive, or not ours to judge
      ++it;
      continue;
    }
    // A failure throws with the list as it was: the next sweep tries again.
    db.transaction([&](Session& tx) { release_owner(tx, owner); });
    host_.log().info("webhook_delivery: took over the deliveries of " + owner +
                     ", a process of this host that is gone");
    it = swept_owners_.erase(it);
  }
}

DeliveryEngine::DeliveryEngine(Host& host, DeliverySettings settings)
    : host_(host),
      settings_(std::move(settings)),
      host_prefix_(host_prefix()),
      owner_(host_prefix_ + std::to_string(getpid()) + "/" + sdk::random_id("", 8)) {
  require_webhook_tables(host_.database());
  ensure_delivery_indexes(host_.database());
  http_client::ClientOptions options;
  options.threads = std::max(1, settings_.client_threads);
  options.ca_file = settings_.ca_file;
  options.max_concurrency_per_pool =
      static_cast<std::size_t>(std::max(1, settings_.max_in_flight_per_endpoint));
  options.max_idle_per_pool = options.max_concurrency_per_pool;
  // Checked on the addresses the client itself resolved, at every connection (DNS rebinding).
  // Unspecified and multicast addresses are refused even with allow_private_targets.
  options.refuse_address = [allow = settings_.allow_private_targets](const std::string& ip) {
    return webhooks::address_refusal(ip, ip, allow);
  };
  client_ = std::make_unique<http_client::HttpClient>(std::move(options));
}

DeliveryEngine::~DeliveryEngine() {
  {
    std::lock_guard lock(mutex_);
    abandoning_ = true;
  }
  client_.reset();
}

std::size_t DeliveryEngine::fan_out_once() {
  if (draining_) return 0;
  Database& db = host_.database();
  const std::uint64_t generation = db.write_generation();
  if (outbox_empty_at_ == generation) return 0;
  if (!position_) position_ = load_position(db);
  const auto events = host_.outbox().read_after(*position_, settings_.fan_out_batch);
  if (events.empty()) {
    outbox_empty_at_ = generation;
    return 0;
  }
  outbox_empty_at_.reset();
  const auto now = host_.now();
  const std::int64_t now_ms = unix_ms(now);
  std::unordered_set<std::string> touched;
  std::vector<const StoredEvent*> wanted;
  try {
    // Rows and position in one transaction: a crash neither loses an event nor fans it out twice.
    db.transaction([&](Session& tx) {
      touched.clear();
      wanted.clear();
      const EndpointDirectory directory(enabled_endpoints(tx));
      // An ordered row is due no sooner than the pending rows of its key (one waiting for a
      // retry holds the later ones back); looked up once per endpoint and key per batch.
      std::map<std::pair<std::string, std::string>, std::int64_t> key_due;
      for (const auto& event : events) {
        const auto targets = directory.targets(event);
        for (const auto* endpoint : targets) {
          std::int64_t due = now_ms;
          if (!event.subject.empty()) {
            auto [it, fresh] = key_due.try_emplace({endpoint->id, event.subject}, now_ms);
            if (fresh) {
              auto latest = latest_pending_of_key(tx, endpoint->id, event.subject);
              if (latest && *latest > now_ms) it->second = *latest;
            }
            due = it->second;
          }
          insert_delivery(tx, endpoint->id, event, due, now);
          touched.insert(endpoint->id);
        }
        if (!targets.empty()) wanted.push_back(&event);
      }
      advance_position(tx, *position_, events.back().sequence);
    });
  } catch (const PositionMoved& e) {
    host_.log().warn(std::string(e.what()) + "; reloading it");
    position_.reset();
    return 0;
  }
  position_ = events.back().sequence;
  for (const auto* event : wanted) remember_payload(event->id, event->payload);
  for (const auto& id : touched) slots_[id].dirty = true;
  return events.size();
}

std::size_t DeliveryEngine::dispatch_once() {
  if (draining_) return 0;
  Database& db = host_.database();
  const auto now = host_.now();
  const std::int64_t now_ms = unix_ms(now);

  const auto steady = std::chrono::steady_clock::now();
  if (steady - last_sweep_ >= settings_.sweep_interval) {
    last_sweep_ = steady;
    std::erase_if(slots_, [](const auto& entry) {
      const EndpointSlot& slot = entry.second;
      return slot.in_flight == 0 && !slot.dirty && !slot.recheck_at;
    });
    const std::uint64_t generation = db.write_generation();
    if (swept_at_ != generation) {
      swept_endpoints_ = enabled_endpoint_ids(db);
      swept_owners_ = lease_owners(db, host_prefix_, now_ms);
      swept_at_ = generation;
    }
    for (const auto& id : swept_endpoints_) slots_[id].dirty = true;
    take_over_dead_owners();
  }
  // Every turn, not only at a sweep: a lease shorter than two sweeps would otherwise lapse under
  // a send that is still on the wire, and another node would send it again.
  renew_leases();
  std::vector<std::string> candidates;
  for (const auto& [id, slot] : slots_) {
    if (slot.dirty || (slot.recheck_at && *slot.recheck_at <= now_ms)) candidates.push_back(id);
  }
  // When the total cap binds, a different endpoint goes first each round.
  if (!candidates.empty()) {
    const auto first = static_cast<std::ptrdiff_t>(rounds_++ % candidates.size());
    std::rotate(candidates.begin(), candidates.begin() + first, candidates.end());
  }

  std::size_t started = 0;
  const int cap = std::max(1, settings_.max_in_flight_per_endpoint);
  for (const auto& id : candidates) {
    if (flights_.size() >= settings_.max_in_flight_total) break;
    EndpointSlot& slot = slots_[id];
    const int total_free = static_cast<int>(settings_.max_in_flight_total - flights_.size());
    const int free = std::min(cap - slot.in_flight, total_free);
    if (free <= 0) {
      slot.dirty = false;  // a completion marks it again
      continue;
    }
    // Its rows on the wire are still pending (and due): ask for enough to see past them.
    const auto rows = due_deliveries(db, id, now_ms, free + slot.in_flight, owner_);
    std::vector<const DueDelivery*> wanted;
    std::vector<std::int64_t> ids;
    for (const auto& row : rows) {
      if (static_cast<int>(wanted.size()) == free) break;
      if (flights_.contains(row.id)) continue;
      wanted.push_back(&row);
      ids.push_back(row.id);
    }
    // Claimed first (one transaction), so another gateway node on this database skips them.
    std::vector<std::int64_t> claimed;
    if (!ids.empty()) {
      db.transaction([&](Session& tx) {
        claimed = claim_deliveries(tx, ids, owner_, now_ms, now_ms + settings_.lease.count());
      });
    }
    int fresh = 0;
    std::size_t next_claimed = 0;
    for (const DueDelivery* row : wanted) {
      if (next_claimed == claimed.size()) break;
      if (claimed[next_claimed] != row->id) continue;  // another node holds it
      ++next_claimed;
      launch(*row, now);
      ++fresh;
    }
    started += static_cast<std::size_t>(fresh);
    slot.dirty = fresh == free;  // perhaps more is due
    slot.recheck_at = fresh == free ? std::nullopt : next_due_at(db, id, now_ms);
  }
  return started;
}

void DeliveryEngine::launch(const DueDelivery& row, std::chrono::system_clock::time_point now) {
  flights_.emplace(row.id, Flight{row.endpoint_id, row.event_id, row.ordering_key,
                                  row.event_sequence, row.attempts + 1, now});
  ++slots_[row.endpoint_id].in_flight;
  {
    std::lock_guard lock(mutex_);
    on_wire_ = flights_.size();
  }
  auto fail = [&](std::string error, bool permanent) {
    Completion completion;
    completion.delivery_id = row.id;
    completion.result.error = std::move(error);
    completion.permanent = permanent;
    complete(std::move(completion));
  };
  const auto payload = payload_of(row.event_id);
  if (!payload) return fail("the event " + row.event_id + " is no longer stored", true);
  // Never sent unsigned: secrets that do not open fail the attempt (and it is retried).
  std::optional<EndpointKeys> keys = open_keys(row, now);
  if (!keys) return fail(kKeysUnavailable, false);
  if (row.signing_key && !keys->signing_key) {
    return fail("the endpoint's signing key is malformed", false);
  }
  auto built = signed_request(*keys, row.event_id, *payload, now, settings_.request_timeout);
  if (!built.request) return fail(built.error, false);
  built.request->pool_key = row.endpoint_id;  // its own connections and concurrency cap
  client_->post(std::move(*built.request), [this, id = row.id](http_client::DeliveryResult result) {
    complete({id, std::move(result), false});
  });
}

std::optional<EndpointKeys> DeliveryEngine::open_keys(const DueDelivery& row,
                                                      std::chrono::system_clock::time_point now) {
  EndpointKeys keys{row.url, {}, {}, row.previous_secret_expires_at, {}};
  try {
    keys.secret = opened(row.secret);
    if (row.previous_secret && row.previous_secret_expires_at) {
      // An expired previous secret signs nothing, so it need not open.
      const auto expires = sdk::parse_timestamp(*row.previous_secret_expires_at);
      if (expires && *expires > now) keys.previous_secret = opened(*row.previous_secret);
    }
    if (row.signing_key) keys.signing_key = signing_key(*row.signing_key);
  } catch (const std::exception& e) {
    if (unreadable_reported_.insert(row.endpoint_id).second) {
      host_.log().error("webhook endpoint " + row.endpoint_id +
                        ": a signing secret cannot be opened (" + e.what() +
                        "); its deliveries fail and are retried until that data key is listed in "
                        "security.previous_data_keys again, or the partner replaces the secret");
    }
    return std::nullopt;
  }
  return keys;
}

const std::string& DeliveryEngine::opened(const std::string& stored) {
  if (auto it = secrets_.find(stored); it != secrets_.end()) return it->second;
  std::string plain = webhooks::open_stored_secret(host_, stored);
  if (secrets_.size() >= kSecretCacheSize) secrets_.clear();
  return secrets_.emplace(stored, std::move(plain)).first->second;
}

void DeliveryEngine::redact_refusal(Completion& completion) {
  if (!completion.result.address_refused) return;
  auto it = flights_.find(completion.delivery_id);
  const std::string endpoint = it == flights_.end() ? "(unknown)" : it->second.endpoint_id;
  host_.log().warn("webhook endpoint " + endpoint + ": " + completion.result.error);
  completion.result.error = std::string(webhooks::kPartnerRefusedAtDelivery);
  completion.result.address_refused = false;
}

void DeliveryEngine::complete(Completion completion) {
  std::lock_guard lock(mutex_);
  if (abandoning_) return;  // stays pending in the database
  completed_.push_back(std::move(completion));
  signal_.notify_all();
}

std::size_t DeliveryEngine::record_results() {
  std::vector<Completion> fresh;
  {
    std::lock_guard lock(mutex_);
    fresh.swap(completed_);
  }
  for (auto& completion : fresh) {
    redact_refusal(completion);
    unrecorded_.push_back(std::move(completion));
  }
  if (unrecorded_.empty()) return 0;
  const auto now = host_.now();
  std::vector<FinishedAttempt> attempts;
  attempts.reserve(unrecorded_.size());
  for (const auto& completion : unrecorded_) {
    auto it = flights_.find(completion.delivery_id);
    if (it == flights_.end()) continue;
    const Flight& flight = it->second;
    FinishedAttempt attempt;
    attempt.delivery_id = completion.delivery_id;
    attempt.endpoint_id = flight.endpoint_id;
    attempt.event_id = flight.event_id;
    attempt.ordering_key = flight.ordering_key;
    attempt.event_sequence = flight.event_sequence;
    attempt.attempt = flight.attempt;
    attempt.at = flight.started_at;
    attempt.latency = completion.result.latency;
    attempt.outcome =
        judge_attempt(completion.result, flight.attempt, jitter(), now, completion.permanent);
    attempts.push_back(std::move(attempt));
  }
  std::vector<RecordEffect> effects(attempts.size());
  try {
    host_.database().transaction([&](Session& tx) {
      for (std::size_t i = 0; i < attempts.size(); ++i) {
        effects[i] = record_attempt(tx, host_.outbox(), attempts[i], now);
      }
    });
  } catch (const std::exception& e) {
    // Kept in memory (and their rows stay excluded) until a later round commits them.
    host_.log().warn(std::string("recording webhook delivery results failed; retrying: ") +
                     e.what());
    return 0;
  }
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    if (!effects[i].endpoint_disabled.empty()) {
      host_.log().warn("webhook endpoint " + attempts[i].endpoint_id +
                       " disabled: " + effects[i].endpoint_disabled);
    }
  }
  for (const auto& completion : unrecorded_) {
    auto it = flights_.find(completion.delivery_id);
    if (it == flights_.end()) continue;
    EndpointSlot& slot = slots_[it->second.endpoint_id];
    --slot.in_flight;
    slot.dirty = true;
    flights_.erase(it);
  }
  {
    std::lock_guard lock(mutex_);
    on_wire_ = flights_.size();
  }
  const std::size_t recorded = unrecorded_.size();
  unrecorded_.clear();
  return recorded;
}

void DeliveryEngine::step() {
  // The leases of the sends on the wire are renewed (when lease/3 has passed) before each part of
  // the round, not only when it dispatches: recording a round's results and fanning out a backlog
  // took up to 1.5 s together on a loaded 2-core host with PostgreSQL, and a lease that lapses
  // meanwhile lets another node send the same delivery again.
  renew_leases();
  record_results();
  for (int i = 0; i < kFanOutBatchesPerStep; ++i) {
    renew_leases();
    if (fan_out_once() < static_cast<std::size_t>(settings_.fan_out_batch)) break;
  }
  dispatch_once();
}

bool DeliveryEngine::wait_idle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    record_results();
    if (flights_.empty()) return true;
    std::unique_lock lock(mutex_);
    if (!signal_.wait_until(lock, deadline, [this] { return !completed_.empty(); })) return false;
  }
}

void DeliveryEngine::wait_for_work(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  signal_.wait_for(lock, timeout, [this] { return woken_ || !completed_.empty(); });
  woken_ = false;
}

void DeliveryEngine::wake() {
  std::lock_guard lock(mutex_);
  woken_ = true;
  signal_.notify_all();
}

void DeliveryEngine::shutdown(std::chrono::milliseconds grace) {
  draining_ = true;
  if (!flights_.empty()) wait_idle(grace);
  {
    std::lock_guard lock(mutex_);
    abandoning_ = true;
    completed_.clear();
  }
  client_.reset();  // closes what is still on the wire; those completions are dropped
  if (!flights_.empty()) {
    // Abandoned rows stay pending; their leases are given up so another node sends them now.
    std::vector<std::int64_t> abandoned;
    for (const auto& [id, flight] : flights_) abandoned.push_back(id);
    try {
      host_.database().transaction(
          [&](Session& tx) { release_deliveries(tx, abandoned, owner_); });
    } catch (const std::exception& e) {
      host_.log().warn(std::string("webhook_delivery: leases of abandoned deliveries not given "
                                   "up (they run out by themselves): ") + e.what());
    }
  }
  flights_.clear();
  unrecorded_.clear();
  slots_.clear();
  std::lock_guard lock(mutex_);
  on_wire_ = 0;
}

std::size_t DeliveryEngine::in_flight() const {
  std::lock_guard lock(mutex_);
  return on_wire_;
}

std::optional<std::string> DeliveryEngine::payload_of(const std::string& event_id) {
  if (auto it = payloads_.find(event_id); it != payloads_.end()) return it->second;
  auto event = host_.outbox().find(event_id);
  if (!event) return std::nullopt;
  remember_payload(event_id, event->payload);
  return event->payload;
}

void DeliveryEngine::remember_payload(const std::string& event_id, const std::string& payload) {
  if (!payloads_.emplace(event_id, payload).second) return;
  payload_order_.push_back(event_id);
  while (payload_order_.size() > kPayloadCacheSize) {
    payloads_.erase(payload_order_.front());
    payload_order_.pop_front();
  }
}

std::optional<std::string> DeliveryEngine::signing_key(const std::string& stored) {
  if (auto it = signing_keys_.find(stored); it != signing_keys_.end()) return it->second;
  auto raw = webhooks::decode_signing_key(webhooks::open_stored_secret(host_, stored));
  if (!raw) return std::nullopt;
  if (signing_keys_.size() >= kSigningKeyCacheSize) signing_keys_.clear();
  signing_keys_.emplace(stored, *raw);
  return raw;
}

double DeliveryEngine::jitter() {
  if (settings_.jitter) return std::clamp(settings_.jitter(), 0.0, 0.999999);
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
}

}  // namespace portico::webhook_delivery
