// Pipeline stages in the style of Envoy filters: each one lets the request continue, finishes it,
// or (Pending) pauses it until an asynchronous answer — an auth scheme, a rate-limit policy, a
// handler on the worker pool — resumes it, on whatever thread that answer comes. A stage may also
// throw ProblemError; the pipeline renders it in one place.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string_view>

#include "core/pipeline/header_lines.hpp"
#include "core/pipeline/request_memory.hpp"
#include "core/pipeline/request_observer.hpp"
#include "core/pipeline/router.hpp"
#include "portico/async.hpp"
#include "portico/http_types.hpp"
#include "portico/plugin.hpp"

namespace portico::pipeline {

struct Snapshot;

// StageStatus and Resumption (how an asynchronous stage resumes the request, see
// Exchange::suspend) are in request_memory.hpp.

// How a stage that paused (returned Pending) resumes its request, from any thread: called once
// with a step, or failed once with what the stage would have thrown. A stage calls it from inside
// the completion it gave the plugin, which is answered exactly once — and, dropped unanswered,
// answers with an error — so the request is resumed exactly once. Copies keep the request alive.
class Resumer {
 public:
  // The request in flight (snapshot.cpp).
  class Target {
   public:
    virtual void resume(Resumption&& step, std::exception_ptr error) = 0;

   protected:
    ~Target() = default;
  };

  Resumer() = default;
  explicit Resumer(std::shared_ptr<Target> target) : target_(std::move(target)) {}

  void operator()(Resumption step) const { target_->resume(std::move(step), nullptr); }
  void fail(std::exception_ptr error) const { target_->resume(Resumption(), std::move(error)); }

 private:
  std::shared_ptr<Target> target_;
};

struct Exchange {
  Request& request;
  const Snapshot& snapshot;
  const RouteEntry* route = nullptr;
  std::optional<Answer> response;  // set by the stage that finishes the request
  // What the tier rate limit counted for this request; its after-response hook turns it into the
  // RateLimit-* headers (and gives a 304 back).
  struct Counted {
    RateLimitQuota quota;
    RateLimitDecision decision;
  };
  std::optional<Counted> rate_limit;
  // The quota the tier rate limit asked its policy about (valid until the answer comes).
  RateLimitQuota quota_asked;
  // Set once the client is gone or the handler timed out: work still running may stop early.
  std::shared_ptr<CancelState> cancel = std::make_shared<CancelState>();
  // Where blocking handlers run; null runs them on the request's thread (unit tests).
  Executor* workers = nullptr;
  // What suspend() resumes: the request in flight. Set by the pipeline.
  Resumer::Target* resume_target = nullptr;
  // Where the request's completions live (request_memory.hpp).
  RequestArena arena;
  // The header lines the gateway adds to the answer (after-response hooks, then X-Request-Id),
  // written into the response head as they are — see Respond — and the rate limit's figures as
  // those lines show them, for the observer.
  HeaderLines core_headers;
  std::optional<ObservedQuota> shown_quota;

  // For a stage about to return Pending: what resumes the request, from any thread. Call it with
  // a step that records the outcome in the exchange and returns Continue (the next stage runs) or
  // Respond (after setting `response`), or fail it with what the stage would have thrown. The
  // step runs under the pipeline's lock: a timeout answering the client meanwhile never sees half
  // of it. It shares the request's ownership through `cancel` (no allocation).
  Resumer suspend() const {
    return Resumer(std::shared_ptr<Resumer::Target>(cancel, resume_target));
  }

  // A completion for an asynchronous call a stage makes, its state in the request's arena; the
  // arena is owned through `cancel` (set by the pipeline: the request itself). Under the
  // request's lock, as stages run.
  template <class T, class F>
  Completion<T> completion(F deliver) {
    return Completion<T>(std::allocator_arg,
                         ArenaAllocator<char>(std::shared_ptr<RequestArena>(cancel, &arena)),
                         std::move(deliver), cancel);
  }
};

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string_view name() const = 0;
  virtual StageStatus run(Exchange& exchange) const = 0;
  // Once the response is final — whatever answered it: a stage, the handler, a problem, the
  // timeout — for every stage that ran, the last first. Reads the response (a 304 may earn a
  // refund) and adds the headers every answer carries to exchange.core_headers. Runs under the
  // request's lock; keep it short. An exception is logged and the response leaves as it is.
  virtual void after_response(Exchange& exchange, const Response& response) const {
    (void)exchange;
    (void)response;
  }
};

}  // namespace portico::pipeline
