// A request's state, leased from its I/O thread's pool while the request is in hand — internal to
// core/http: only session.hpp includes it.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/http/beast_conversion.hpp"
#include "core/http/request_reader.hpp"

namespace portico::http {

// What one request needs from its first byte to its response's last — the request object, its
// reader, the response being written — held by a connection only while it has a request in hand:
// leased from a pool of the thread's own when the request's bytes arrive, given back once its
// response is written. The few states a thread's requests take turns with stay in its caches
// however many connections it serves; each connection keeping its own made every request start on
// memory last touched a whole round of connections ago (docs/performance.md, thirteenth pass).
struct RequestState {
  std::shared_ptr<Request> request;     // filled again request after request: see read_header()
  std::optional<RequestReader> reader;  // reads into *request
  WireResponse response;                // kept until its write completes; its head is reused
  std::optional<Answer> answered_at_once;
  std::string core_headers;  // the lines that came with answered_at_once
};

// Last in, first out: the state given back last is the one warmest in the caches. Beyond
// kKept states (a thread with that many requests in hand at once) the extra ones are freed.
// A state may come back on another thread than the one it left (a connection destroyed
// elsewhere): each thread's pool is its own, a state belongs to none.
class RequestStatePool {
 public:
  static std::unique_ptr<RequestState> take() {
    Pool& pool = this_threads();
    if (pool.free.empty()) return std::make_unique<RequestState>();
    auto state = std::move(pool.free.back());
    pool.free.pop_back();
    return state;
  }
  static void give_back(std::unique_ptr<RequestState> state) {
    state->reader.reset();                 // it refers to the request
    state->response.body = std::string();  // a large body is not kept
    state->response.shared.reset();
    state->answered_at_once.reset();
    if (state->request.use_count() == 1) {
      std::atomic_thread_fence(std::memory_order_acquire);  // after the last holder let go
      // Nor is a large request body's room: a pooled state lives as long as its thread.
      if (state->request->body.capacity() > kKeptBody) std::string().swap(state->request->body);
    } else {
      state->request.reset();  // still held (a handler past its deadline): not to be filled again
    }
    if (gone_) return;  // this thread's pool is destroyed already (it is exiting)
    Pool& pool = this_threads();
    if (pool.free.size() < kKept) pool.free.push_back(std::move(state));
  }

 private:
  static constexpr std::size_t kKept = 256;
  static constexpr std::size_t kKeptBody = 64 * 1024;  // bytes of a request body's room
  struct Pool {
    Pool() { free.reserve(kKept); }  // no growth later, when a request is answered
    std::vector<std::unique_ptr<RequestState>> free;
    ~Pool() { gone_ = true; }
  };
  static Pool& this_threads() {
    thread_local Pool pool;
    return pool;
  }
  static inline thread_local bool gone_ = false;
};

}  // namespace portico::http
