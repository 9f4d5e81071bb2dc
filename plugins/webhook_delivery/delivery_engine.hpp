// The delivery engine: fans outbox events out into webhook_deliveries rows, sends the due rows
// with the asynchronous HTTP client, and records the results in batches. It keeps only what a
// restart can lose — which rows are on the wire right now — in memory; everything else is in the
// database. Testable without the core: give it a Host (FakeHost with a real database and outbox)
// and drive it with fan_out_once / dispatch_once / wait_idle, moving the host's clock.
//
// Threading: every method except wake() and in_flight() belongs to one thread at a time (the
// service thread, or the test). HTTP completions arrive on client threads and are only queued.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "plugins/webhook_delivery/delivery_settings.hpp"
#include "plugins/webhook_delivery/delivery_store.hpp"
#include "lib/http_client/http_client.hpp"
#include "plugins/webhook_delivery/signed_request.hpp"
#include "portico/host.hpp"

namespace portico::webhook_delivery {

class DeliveryEngine {
 public:
  // Throws std::runtime_error when the webhook tables are missing or the CA file is unusable.
  DeliveryEngine(Host& host, DeliverySettings settings);
  // Abandons whatever is still on the wire (those rows stay pending).
  ~DeliveryEngine();
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;

  // Reads up to fan_out_batch events after the stored position and, in one transaction, inserts
  // their delivery rows and advances the position. Returns the number of events read.
  std::size_t fan_out_once();
  // Starts requests for due rows, within the per-endpoint and total caps. Returns how many.
  std::size_t dispatch_once();
  // Commits the completed attempts in one transaction. Returns how many were recorded.
  std::size_t record_results();
  // One round of the service loop: record, fan out (while there is a backlog), dispatch.
  void step();

  // Records completions until nothing is on the wire; false when `timeout` passed first.
  bool wait_idle(std::chrono::milliseconds timeout);
  // Sleeps until a completion arrives, wake() is called, or `timeout` passes.
  void wait_for_work(std::chrono::milliseconds timeout);
  // Thread-safe: ends the current (or next) wait_for_work.
  void wake();
  // Stops dispatching, lets requests on the wire finish for up to `grace` (recording them), then
  // abandons the rest: their rows stay pending and go out again after a restart.
  void shutdown(std::chrono::milliseconds grace);

  std::size_t in_flight() const;

 private:
  struct Flight {
    std::string endpoint_id;
    std::string event_id;
    std::string ordering_key;
    std::int64_t event_sequence = 0;
    int attempt = 0;
    std::chrono::system_clock::time_point started_at;
  };
  struct Completion {
    std::int64_t delivery_id = 0;
    http_client::DeliveryResult result;
    bool permanent = false;  // no retry can help (the event is no longer stored)
  };
  struct EndpointSlot {
    int in_flight = 0;
    bool dirty = false;                      // something changed: query it at the next dispatch
    std::optional<std::int64_t> recheck_at;  // Unix ms when its next pending row becomes due
  };

  void launch(const DueDelivery& row, std::chrono::system_clock::time_point now);
  // The row's secrets opened (and the previous one only while it still signs); nullopt when one
  // does not open — logged once per endpoint, never the value.
  std::optional<EndpointKeys> open_keys(const DueDelivery& row,
                                        std::chrono::system_clock::time_point now);
  // A stored secret's plain text, cached; throws when it does not open.
  const std::string& opened(const std::string& stored);
  // An address refused by the SSRF guard: the detail to the operator log, a generic error to the
  // attempt log that the partner reads.
  void redact_refusal(Completion& completion);
  void complete(Completion completion);  // any thread
  std::optional<std::string> payload_of(const std::string& event_id);
  void remember_payload(const std::string& event_id, const std::string& payload);
  // The raw Ed25519 key of a stored (sealed) "whsk_…"; nullopt when malformed, throws when it does
  // not open.
  std::optional<std::string> signing_key(const std::string& stored);
  double jitter();

  Host& host_;
  DeliverySettings settings_;
  // This engine's name in webhook_deliveries.lease_owner: "<host>/<pid>/<random>", so a process
  // on the same host (names starting with host_prefix_) can tell a dead one's leases (its pid is
  // gone) and take them over at once.
  std::string host_prefix_;
  std::string owner_;
  std::chrono::steady_clock::time_point last_renewal_{};
  // Renews this engine's leases while sends are on the wire, when lease/3 has passed since it
  // last did: called between every part of a round (step), so none lapses under a long one.
  void renew_leases();
  // Ends the leases of processes on this host that are gone (a restart after kill -9 resumes
  // their rows at once, not after the lease); at each sweep, over swept_owners_.
  void take_over_dead_owners();
  std::optional<std::int64_t> position_;
  // Idle rounds ask the database nothing (they run 10 times a second for the life of the
  // process): the outbox is read again only once Database::write_generation() — read before
  // the read, moved by every write, this process's or another's — has left the value at which
  // it was last found empty; a sweep's lists of enabled endpoints and of lease owners on this
  // host stand while it is the value they were read at (an owner whose lease has run out since
  // is only checked again: harmless).
  std::optional<std::uint64_t> outbox_empty_at_;
  std::optional<std::uint64_t> swept_at_;
  std::vector<std::string> swept_endpoints_;
  std::vector<std::string> swept_owners_;
  std::unordered_map<std::int64_t, Flight> flights_;
  std::unordered_map<std::string, EndpointSlot> slots_;
  std::unordered_map<std::string, std::string> payloads_;  // event id → body, bounded FIFO
  std::deque<std::string> payload_order_;
  std::unordered_map<std::string, std::string> signing_keys_;  // stored "whsk_…" → raw key
  std::unordered_map<std::string, std::string> secrets_;       // stored secret → plain text
  std::unordered_set<std::string> unreadable_reported_;        // endpoint ids already logged
  std::vector<Completion> unrecorded_;  // taken from the queue, not yet committed
  std::chrono::steady_clock::time_point last_sweep_{};
  std::size_t rounds_ = 0;
  bool draining_ = false;
  std::mt19937_64 random_{std::random_device{}()};

  mutable std::mutex mutex_;  // guards the fields below
  std::condition_variable signal_;
  std::vector<Completion> completed_;
  bool woken_ = false;
  bool abandoning_ = false;
  std::size_t on_wire_ = 0;  // mirrors flights_.size() for in_flight()

  std::unique_ptr<http_client::HttpClient> client_;  // last: destroyed first
};

}  // namespace portico::webhook_delivery
