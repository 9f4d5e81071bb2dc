// HttpClient::Impl: the io_context and its threads, the TLS context, the per-pool idle lists and
// concurrency queues (take_idle_locked, launch, release), the idle sweep, the list of attempts not
// yet completed (add_live, remove_live) and shutdown, which completes every one of them.
#include <stdexcept>

#include "lib/http_client/internals.hpp"
#include "portico/sdk/thread_name.hpp"

namespace portico::http_client {
using namespace detail;

HttpClient::Impl::Impl(ClientOptions opts)
    : options(std::move(opts)), sweep_strand(asio::make_strand(io)), sweep_timer(sweep_strand) {
  if (options.threads < 1) options.threads = 1;
  tls.emplace(ssl::context::tls_client);
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  tls->set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  if (options.ca_file) {
    tls->load_verify_file(*options.ca_file, ec);
    if (ec) {
      throw std::runtime_error("cannot load the CA file '" + *options.ca_file +
                               "': " + ec.message());
    }
  } else {
    tls->set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("cannot use the system CA store: " + ec.message());
  }
}

void HttpClient::Impl::start_threads() {
  work.emplace(io.get_executor());
  schedule_sweep();
  threads.reserve(static_cast<std::size_t>(options.threads));
  for (int i = 0; i < options.threads; ++i) {
    threads.emplace_back([this] {
      sdk::name_this_thread("http-client");
      for (;;) {
        try {
          io.run();
          return;
        } catch (...) {
          // keep serving; a handler threw
        }
      }
    });
  }
}

void HttpClient::Impl::schedule_sweep() {
  auto period = std::chrono::milliseconds(1000);
  auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(options.idle_timeout);
  if (idle < period) period = std::max(idle, std::chrono::milliseconds(50));
  sweep_timer.expires_after(period);
  sweep_timer.async_wait([this](beast::error_code ec) {
    if (ec || stopping) return;
    sweep();
    schedule_sweep();
  });
}

// Closes idle connections that expired or that the peer closed, and forgets unused pools.
void HttpClient::Impl::sweep() {
  std::vector<std::shared_ptr<Connection>> dead;
  auto now = Clock::now();
  {
    std::lock_guard lock(pools_mutex);
    for (auto it = pools.begin(); it != pools.end();) {
      auto& idle = it->second.idle;
      for (auto& conn : idle) {
        if (now - conn->idle_since >= options.idle_timeout || !conn->still_usable()) {
          dead.push_back(std::move(conn));
        }
      }
      std::size_t before = idle.size();
      std::erase(idle, nullptr);
      idle_total -= before - idle.size();
      if (idle.empty() && it->second.active == 0 && it->second.waiting.empty()) {
        it = pools.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& conn : dead) conn->close();
}

std::shared_ptr<Connection> HttpClient::Impl::take_idle_locked(Pool& pool) {
  auto now = Clock::now();
  while (!pool.idle.empty()) {
    auto conn = std::move(pool.idle.back());
    pool.idle.pop_back();
    --idle_total;
    if (now - conn->idle_since < options.idle_timeout && conn->still_usable()) return conn;
    conn->close();
  }
  return nullptr;
}

void HttpClient::Impl::launch(const std::shared_ptr<Attempt>& attempt,
                              std::shared_ptr<Connection> conn) {
  bool reused = conn != nullptr;
  if (!conn) {
    conn = std::make_shared<Connection>(asio::make_strand(io), attempt->tls() ? &*tls : nullptr);
  }
  {
    std::lock_guard lock(live_mutex);
    attempt->ex = conn->ex;
  }
  auto ex = conn->ex;
  asio::post(ex, [attempt, conn = std::move(conn), reused]() mutable {
    attempt->begin(std::move(conn), reused);
  });
}

void HttpClient::Impl::release(Attempt& attempt, std::shared_ptr<Connection> reusable) {
  std::shared_ptr<Connection> to_close;
  std::shared_ptr<Attempt> next;
  std::shared_ptr<Connection> next_conn;
  {
    std::lock_guard lock(pools_mutex);
    Pool& pool = *attempt.pool;
    attempt.has_slot = false;
    attempt.pool = nullptr;
    if (reusable) {
      if (!stopping && pool.idle.size() < options.max_idle_per_pool) {
        reusable->idle_since = Clock::now();
        pool.idle.push_back(std::move(reusable));
        ++idle_total;
      } else {
        to_close = std::move(reusable);
      }
    }
    --pool.active;
    std::size_t cap = options.max_concurrency_per_pool;
    if (!stopping && !pool.waiting.empty() && (cap == 0 || pool.active < cap)) {
      next = std::move(pool.waiting.front());
      pool.waiting.pop_front();
      next->has_slot = true;
      ++pool.active;
      next_conn = take_idle_locked(pool);
    }
  }
  if (to_close) to_close->close();
  if (next) launch(next, std::move(next_conn));
}

void HttpClient::Impl::add_live(Attempt* attempt) {
  std::lock_guard lock(live_mutex);
  attempt->next = live_head;
  if (live_head) live_head->prev = attempt;
  live_head = attempt;
  attempt->linked = true;
  live_count.fetch_add(1);
}

void HttpClient::Impl::remove_live(Attempt* attempt) {
  std::lock_guard lock(live_mutex);
  unlink_locked(attempt);
}

void HttpClient::Impl::unlink_locked(Attempt* attempt) {
  if (!attempt->linked) return;
  attempt->linked = false;
  if (attempt->prev) attempt->prev->next = attempt->next;
  if (attempt->next) attempt->next->prev = attempt->prev;
  if (live_head == attempt) live_head = attempt->next;
  attempt->prev = attempt->next = nullptr;
  if (live_count.fetch_sub(1) == 1) live_cv.notify_all();
}

void HttpClient::Impl::shutdown() {
  stopping = true;
  // Queued attempts and idle connections.
  std::vector<std::shared_ptr<Attempt>> queued;
  std::vector<std::shared_ptr<Connection>> idle;
  {
    std::lock_guard lock(pools_mutex);
    for (auto& [key, pool] : pools) {
      for (auto& a : pool.waiting) {
        a->pool = nullptr;
        queued.push_back(std::move(a));
      }
      pool.waiting.clear();
      for (auto& c : pool.idle) idle.push_back(std::move(c));
      pool.idle.clear();
    }
    idle_total = 0;
  }
  for (auto& c : idle) c->close();
  for (auto& a : queued) {
    asio::post(io, [a] {
      DeliveryResult result;
      result.error = kStopped;
      a->finish(std::move(result), nullptr);
    });
  }
  // Attempts on the wire: close their sockets on their strands.
  {
    std::lock_guard lock(live_mutex);
    for (Attempt* a = live_head; a; a = a->next) {
      if (!a->ex) continue;  // queued (handled above) or about to begin (sees `stopping`)
      if (auto self = a->weak_from_this().lock()) {
        asio::post(a->ex, [self] { self->abort(); });
      }
    }
  }
  asio::post(sweep_strand, [this] { sweep_timer.cancel(); });
  {
    // A resolve stuck in getaddrinfo cannot be interrupted; don't wait for it for long.
    std::unique_lock lock(live_mutex);
    live_cv.wait_for(lock, std::chrono::seconds(2), [this] { return live_count.load() == 0; });
  }
  work.reset();
  if (live_count.load() != 0) io.stop();
  for (auto& t : threads) t.join();
  threads.clear();
  // Whatever is still pending never got to run its handlers: complete it here.
  for (;;) {
    std::shared_ptr<Attempt> a;
    {
      std::lock_guard lock(live_mutex);
      if (!live_head) break;
      a = live_head->weak_from_this().lock();
      if (!a) {
        unlink_locked(live_head);  // being destroyed; its destructor finds it unlinked
        continue;
      }
    }
    DeliveryResult result;
    result.error = kStopped;
    a->finish(std::move(result), nullptr);
    remove_live(a.get());  // in case it had finished already
  }
  std::lock_guard lock(pools_mutex);
  for (auto& [key, pool] : pools) {
    for (auto& c : pool.idle) c->close();
  }
  pools.clear();
}

}  // namespace portico::http_client
