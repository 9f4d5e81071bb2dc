// The partner pipeline's run: stages one after another on the calling thread until one answers or
// pauses (Pending); a paused request resumes on the thread its answer comes from. Finishing —
// response headers, usage, metrics and the access line — happens once, under the request's lock,
// whichever comes first: the pipeline's answer, the client leaving, or the handler timeout.
#include "core/pipeline/snapshot.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>

#include "core/pipeline/problems.hpp"
#include "core/pipeline/request_id.hpp"
#include "core/util/recycling_allocator.hpp"

namespace portico::pipeline {

namespace {

// Usage counts every response an authenticated partner got on a matched route. After
// authentication the only 429 the core produces is the tier rate limit's.
void report_usage(const Snapshot& snapshot, const Exchange& exchange, const Response& response) {
  const auto& identity = exchange.request.identity;
  if (!snapshot.usage || !identity || !exchange.route) return;
  snapshot.usage->record(identity->partner_id, exchange.route->label, response.status,
                         response.status == 429);
}

// The gateway's own headers are written from the exchange's lines: a handler's header of one of
// those names is dropped (it used to be overwritten), so none appears twice. A shared answer is
// copied first — only when it has one (a cache's answer is made without them).
void drop_gateway_headers(Answer& answer) {
  const auto& headers = answer.response().headers;
  const auto is_gateway = [](const auto& header) { return is_gateway_header(header.first); };
  if (std::none_of(headers.begin(), headers.end(), is_gateway)) return;
  std::erase_if(answer.own().headers, is_gateway);
}

class InFlight final : public PendingRequest,
                       public Resumer::Target,
                       public std::enable_shared_from_this<InFlight> {
 public:
  InFlight(std::shared_ptr<const Snapshot> snapshot, std::shared_ptr<Request> request,
           Respond respond)
      : snapshot_(std::move(snapshot)),
        request_owner_(std::move(request)),
        request_(*request_owner_),
        respond_(std::move(respond)),
        exchange_{.request = request_,
                  .snapshot = *snapshot_,
                  .route = nullptr,
                  .response = std::nullopt,
                  .rate_limit = std::nullopt,
                  .quota_asked = {},
                  .cancel = nullptr,
                  .workers = snapshot_->workers,
                  .resume_target = this,
                  .arena = {},
                  .core_headers = {},
                  .shown_quota = std::nullopt} {
  }

  void begin() {
    // The request's cancel state lives in this object (no allocation of its own); each pointer to
    // it keeps the request alive. The exchange's own pointer is dropped once the request finishes
    // (finish()), so it does not keep the request alive forever.
    exchange_.cancel = std::shared_ptr<CancelState>(shared_from_this(), &cancel_state_);
    if (request_.request_id.empty()) {
      assign_request_id(request_.request_id, request_.header("X-Request-Id"));
      request_id_sane_ = true;
    }
    std::lock_guard lock(mutex_);
    proceed(StageStatus::Continue);
  }

  void client_gone() override { abandon(client_closed_problem()); }
  void timed_out() override { abandon(handler_timeout_problem()); }

 private:
  // Whether the stage (or resumption step) running now has been answered already.
  enum Phase { running, suspended, resumed_early };

  // Goes on from `status`, the answer of the last stage or step: runs stages until one answers,
  // throws or pauses. Holds mutex_.
  void proceed(StageStatus status) {
    try {
      for (;;) {
        if (finished_) return;
        if (status == StageStatus::Pending) {
          Phase expected = running;
          if (phase_.compare_exchange_strong(expected, suspended, std::memory_order_acq_rel)) {
            return;  // the answer resumes us, on its thread
          }
          // Answered before the stage even returned: take the answer here.
          phase_.store(running, std::memory_order_release);
          status = apply(std::move(early_step_), std::move(early_error_));
          continue;
        }
        if (status == StageStatus::Respond || next_stage_ >= snapshot_->stages.size()) {
          return finish(exchange_.response
                            ? std::move(*exchange_.response)
                            : problem_answer(internal_error(), request_.request_id));
        }
        const Stage& stage = *snapshot_->stages[next_stage_++];
        phase_.store(running, std::memory_order_release);
        status = stage.run(exchange_);
      }
    } catch (...) {
      fail(std::current_exception());
    }
  }

  // An exception from a stage or a step: a ProblemError is its problem, anything else a 500.
  void fail(std::exception_ptr error) {
    try {
      std::rethrow_exception(std::move(error));
    } catch (const ProblemError& e) {
      finish(problem_answer(e.problem(), request_.request_id));
    } catch (const std::exception& e) {
      if (snapshot_->on_internal_error) snapshot_->on_internal_error(request_, e.what());
      finish(problem_answer(error_problem(e), request_.request_id));
    } catch (...) {
      if (snapshot_->on_internal_error) snapshot_->on_internal_error(request_, "unknown exception");
      finish(problem_answer(internal_error(), request_.request_id));
    }
  }

  // Applies an asynchronous stage's answer: rethrows its error, else runs its step.
  StageStatus apply(Resumption step, std::exception_ptr error) {
    if (error) std::rethrow_exception(error);
    if (!step) return StageStatus::Continue;
    return step(exchange_);
  }

  // Called through the Resumer a paused stage got, on the thread its answer came from.
  void resume(Resumption&& step, std::exception_ptr error) override {
    for (;;) {
      Phase phase = phase_.load(std::memory_order_acquire);
      if (phase == running) {
        // Still inside the stage that paused (answered at once, or racing it): hand the answer
        // over; the stage's thread applies it when the stage returns.
        early_step_ = std::move(step);
        early_error_ = std::move(error);
        Phase expected = running;
        if (phase_.compare_exchange_strong(expected, resumed_early, std::memory_order_acq_rel)) {
          return;
        }
        step = std::move(early_step_);
        error = std::move(early_error_);
        continue;
      }
      Phase expected = suspended;
      if (phase_.compare_exchange_strong(expected, running, std::memory_order_acq_rel)) break;
    }
    std::lock_guard lock(mutex_);
    if (finished_) return;  // timed out or the client left: the late answer is dropped
    StageStatus status;
    try {
      status = apply(std::move(step), std::move(error));
    } catch (...) {
      return fail(std::current_exception());
    }
    proceed(status);
  }

  void abandon(const Problem& why) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    exchange_.cancel->cancel();
    finish(problem_answer(why, request_.request_id));
  }

  // Once per request, under mutex_: the headers every response carries, then usage, metrics and
  // the access line, then the answer to the connection.
  void finish(Answer answer) {
    if (finished_) return;
    finished_ = true;
    const Snapshot& snapshot = *snapshot_;
    drop_gateway_headers(answer);
    const Response& response = answer.response();
    // The stages that ran, last first (the rate limit's header lines and its 304 refund).
    for (std::size_t i = std::min(next_stage_, snapshot.stages.size()); i-- > 0;) {
      try {
        snapshot.stages[i]->after_response(exchange_, response);
      } catch (const std::exception& error) {
        if (snapshot.on_warning) {
          snapshot.on_warning(std::string(snapshot.stages[i]->name()) +
                              " after the response: " + error.what());
        }
      }
    }
    if (request_id_sane_) {  // assign_request_id's: no CR or LF to blank
      exchange_.core_headers.add_trusted({"X-Request-Id: ", request_.request_id, "\r\n"});
    } else {
      exchange_.core_headers.add("X-Request-Id", request_.request_id);
    }
    try {
      report_usage(snapshot, exchange_, response);
    } catch (const std::exception& error) {
      // Losing one usage count must not turn a served response into an error.
      if (snapshot.on_warning) snapshot.on_warning(std::string("usage not recorded: ") + error.what());
    }
    if (snapshot.observer) {
      try {
        snapshot.observer->observe({request_, exchange_.route, response,
                                    std::chrono::steady_clock::now() - received_at_,
                                    exchange_.shown_quota});
      } catch (const std::exception& error) {
        if (snapshot.on_warning) snapshot.on_warning(std::string("request not observed: ") + error.what());
      }
    }
    Respond respond = std::move(respond_);
    respond(std::move(answer), exchange_.core_headers.view());
    exchange_.cancel.reset();  // see begin(); completions still out hold their own pointer
  }

  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<Request> request_owner_;  // the I/O thread's pooled one, reused once we let go
  Request& request_;
  Respond respond_;
  CancelState cancel_state_;  // before exchange_, which points at it
  Exchange exchange_;
  const std::chrono::steady_clock::time_point received_at_ = std::chrono::steady_clock::now();
  std::recursive_mutex mutex_;  // a stage answering at once resumes on the same thread
  std::size_t next_stage_ = 0;
  bool finished_ = false;
  bool request_id_sane_ = false;  // set by assign_request_id (is_sane_request_id holds)
  std::atomic<Phase> phase_{running};
  Resumption early_step_;
  std::exception_ptr early_error_;
};

}  // namespace

const config::SecurityConfig& security_settings(const Snapshot& snapshot) {
  static const config::SecurityConfig defaults;
  return snapshot.config ? snapshot.config->security : defaults;
}

std::shared_ptr<PendingRequest> start_request(std::shared_ptr<const Snapshot> snapshot,
                                              std::shared_ptr<Request> request, Respond respond) {
  auto flight = std::allocate_shared<InFlight>(util::RecyclingAllocator<InFlight>(),
                                               std::move(snapshot), std::move(request),
                                               std::move(respond));
  flight->begin();
  return flight;
}

Response Snapshot::handle(Request& request) const {
  std::promise<Response> answer;
  auto answered = answer.get_future();
  // Not owned: this call waits until the request is answered.
  std::shared_ptr<const Snapshot> self(std::shared_ptr<const Snapshot>(), this);
  auto owned = std::make_shared<Request>(std::move(request));
  auto flight = std::make_shared<InFlight>(
      self, owned, [&answer](Answer&& answered, std::string_view core_headers) {
        // The caller gets one Response: the gateway's lines become headers of it again.
        Response response = std::move(answered).take();
        HeaderLines::append_to(response.headers, core_headers);
        answer.set_value(std::move(response));
      });
  flight->begin();
  Response response = answered.get();
  request = std::move(*owned);
  return response;
}

}  // namespace portico::pipeline
