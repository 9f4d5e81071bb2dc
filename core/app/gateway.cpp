#include "core/app/gateway.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>

#include <csignal>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "core/app/admin_api.hpp"
#include "core/app/logging.hpp"
#include "core/app/periodic.hpp"
#include "core/app/reload.hpp"
#include "core/app/runtime.hpp"
#include "core/http/http_server.hpp"
#include "core/observability/audit_log.hpp"
#include "core/observability/process_stats.hpp"
#include "core/pipeline/request_id.hpp"
#include "core/storage/outbox.hpp"
#include "portico/sdk/thread_name.hpp"

namespace portico::app {
namespace asio = boost::asio;

namespace {

http::HttpServerOptions listener_options(const config::ServerConfig& server, std::string name,
                                         config::ListenAddress listen) {
  http::HttpServerOptions o;
  o.name = std::move(name);
  o.listen = std::move(listen);
  o.max_body = server.max_body;
  o.max_header = server.max_header;
  o.header_timeout = server.header_timeout;
  o.idle_timeout = server.idle_timeout;
  o.max_json_depth = server.max_json_depth;
  o.handler_timeout = server.handler_timeout;
  o.batch_sends = server.batch_sends;
  o.batch_reads = server.batch_reads;
  o.yield_below_connections = static_cast<std::size_t>(server.yield_below_connections);
  return o;
}

// The soft RLIMIT_NOFILE raised to the hard one (every connection is a descriptor); the limit in
// force, said in the log either way.
std::uint64_t raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      spdlog::info("raised the open-file limit (RLIMIT_NOFILE) from {} to its hard limit {}",
                   before, limit.rlim_max);
      return limit.rlim_max;
    }
    spdlog::warn("could not raise the open-file limit (RLIMIT_NOFILE) from {} to {}", before,
                 limit.rlim_max);
    return before;
  }
  spdlog::info("open-file limit (RLIMIT_NOFILE) is {}", limit.rlim_cur);
  return limit.rlim_cur;
}

// How many partner connections one public listener may hold: what the open-file limit leaves
// after the descriptors in use now (store, logs, plugins) and a reserve for the admin listener,
// webhook deliveries and the store's later needs.
std::size_t partner_connection_cap(std::uint64_t open_file_limit, int listeners) {
  const std::uint64_t in_use = observability::read_process_stats().open_fds.value_or(64);
  const std::uint64_t reserve = 64 + open_file_limit / 20;
  const std::uint64_t spare =
      open_file_limit > in_use + reserve ? open_file_limit - in_use - reserve : 0;
  const std::uint64_t cap = std::max<std::uint64_t>(16, spare / std::max(1, listeners));
  spdlog::info(
      "each partner listener accepts at most {} connections at once (open-file limit {}, {} in "
      "use, {} kept for the admin listener, the store and webhooks)",
      cap, open_file_limit, in_use, reserve);
  return static_cast<std::size_t>(cap);
}

// Accept pauses reach the log at most once per listener and reason every 10 s (with how many
// happened since), and every one is counted in portico_accept_pauses_total.
class AcceptPauseReporter {
 public:
  explicit AcceptPauseReporter(std::shared_ptr<observability::Observability> observability)
      : observability_(std::move(observability)) {}

  std::function<void(std::string_view, const std::string&)> for_listener(std::string listener) {
    return [this, listener](std::string_view reason, const std::string& message) {
      if (observability_) observability_->count_accept_pause(listener, reason);
      std::lock_guard lock(mutex_);
      Seen& seen = seen_[listener + "/" + std::string(reason)];
      ++seen.since_logged;
      const auto now = std::chrono::steady_clock::now();
      if (seen.logged && now - *seen.logged < std::chrono::seconds(10)) return;
      spdlog::warn("{} ({} time(s) since the last such line; open connections are still served)",
                   message, seen.since_logged);
      seen.logged = now;
      seen.since_logged = 0;
    };
  }

 private:
  struct Seen {
    std::optional<std::chrono::steady_clock::time_point> logged;
    std::uint64_t since_logged = 0;
  };
  std::shared_ptr<observability::Observability> observability_;
  std::mutex mutex_;
  std::map<std::string, Seen> seen_;
};

// Closes listeners and idle connections, then stops the io_contexts once every connection has
// finished its request or the deadline passes. Keeps itself alive through its pending timer.
class Drain : public std::enable_shared_from_this<Drain> {
 public:
  Drain(asio::io_context& io, std::vector<asio::io_context*> stop,
        std::vector<http::HttpServer*> servers, std::chrono::milliseconds deadline)
      : stop_(std::move(stop)),
        servers_(std::move(servers)),
        timer_(io),
        until_(std::chrono::steady_clock::now() + deadline) {}

  void start() {
    for (auto* server : servers_) server->begin_shutdown();
    poll();
  }

 private:
  void poll() {
    std::size_t open = 0;
    for (auto* server : servers_) open += server->open_connections();
    if (open == 0 || std::chrono::steady_clock::now() >= until_) {
      if (open > 0)
        spdlog::warn("shutdown deadline reached with {} connection(s) still open", open);
      for (auto* io : stop_) io->stop();
      return;
    }
    timer_.expires_after(std::chrono::milliseconds(20));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->poll();
    });
  }

  std::vector<asio::io_context*> stop_;
  std::vector<http::HttpServer*> servers_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point until_;
};

}  // namespace

int serve(const ServeOptions& options) {
  // A write past RLIMIT_FSIZE fails with EFBIG (the store answers 503) instead of killing us.
  std::signal(SIGXFSZ, SIG_IGN);
  config::Config cfg = load_config(options.config_file, options.overrides);
  try {
    setup_process_log(cfg.logging.level, cfg.logging.dir);
  } catch (const std::exception& e) {
    throw StartupError({cfg.file + " logging.dir: " + e.what()}, 1);
  }
  auto prepared = prepare_plugins_or_fail(cfg);

  auto config = std::make_shared<const config::Config>(cfg);
  pipeline::SnapshotHolder holder;
  // Tier names follow the snapshot in force, so a reload that adds a tier is seen by the admin API.
  Runtime runtime = open_runtime(cfg, prepared, [&holder, config] {
    auto snapshot = holder.load();
    return partners::tier_names(snapshot ? *snapshot->config : *config);
  });

  // Start-up is a reload from an empty snapshot: one way to load, migrate, build and hand over.
  auto empty = std::make_shared<pipeline::Snapshot>();
  empty->config = config;
  empty->on_internal_error = [](const Request& request, std::string_view what) {
    spdlog::error("request {} {} {} failed: {}", request.request_id, request.method, request.path,
                  what);
  };
  holder.store(std::move(empty));
  Reloader reloader(options.config_file, options.overrides, holder, runtime);
  reloader.start(std::move(prepared));

  int threads = cfg.server.threads > 0
                    ? cfg.server.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // One event loop per I/O thread, each with its own epoll set; connections are spread over them
  // and never change threads, so a connection's handlers need no strand (no lock per step).
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::vector<asio::io_context*> partner_loops;
  for (int i = 0; i < threads; ++i) {
    loops.push_back(std::make_unique<asio::io_context>(1));
    partner_loops.push_back(loops.back().get());
  }
  asio::io_context& io = *loops.front();  // signals and timers
  // A loop without connections yet must keep running: the drain stops them all explicitly.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  for (auto& loop : loops) keep_running.push_back(asio::make_work_guard(*loop));
  // The admin listener has its own thread: an import or a reload never holds up partner traffic.
  asio::io_context admin_io(1);
  // The pipeline answers at once or later (a handler on the worker pool, an asynchronous plugin);
  // the request keeps the snapshot it started on until it is answered.
  auto partner_handler = [&holder](std::shared_ptr<Request> request, pipeline::Respond respond) {
    return pipeline::start_request(holder.load(), std::move(request), std::move(respond));
  };
  // Accepted but risky settings (a short admin token on loopback, the demo fallback token).
  for (const auto& warning : cfg.warnings) spdlog::warn("{}", warning);
  std::shared_ptr<observability::AuditLog> audit;
  try {
    audit = std::make_shared<observability::AuditLog>(cfg.logging.dir);
  } catch (const std::exception& e) {
    throw StartupError({cfg.file + " logging.dir: " + e.what()}, 1);
  }
  AdminApi admin(
      holder, runtime.db, runtime.partners.service, runtime.usage,
      [observability = runtime.observability](const pipeline::Snapshot& snapshot) {
        return observability->render_metrics(snapshot);
      },
      &reloader, runtime.client_guard, audit);

  const std::size_t connection_cap =
      partner_connection_cap(raise_open_file_limit(), cfg.server.tls ? 2 : 1);
  AcceptPauseReporter pauses(runtime.observability);
  runtime.observability->set_io_stats([] {
    const http::IoCounters io = http::io_counters();
    return observability::IoStats{io.read_calls, io.reads, io.send_calls, io.sends, io.yields};
  });
  if (cfg.server.batch_sends || cfg.server.batch_reads) {
    if (const std::string refusal = http::io_batching_refusal(); !refusal.empty()) {
      spdlog::warn(
          "{} server.batch_sends, server.batch_reads: io_uring cannot be used here ({}): every "
          "response and every read is a system call of its own (set both to false to say so)",
          cfg.file, refusal);
    }
  }
  std::vector<std::unique_ptr<http::HttpServer>> servers;
  auto public_options = listener_options(cfg.server, "public", cfg.server.listen);
  public_options.max_connections = connection_cap;
  public_options.on_accept_pause = pauses.for_listener("public");
  servers.push_back(
      std::make_unique<http::HttpServer>(partner_loops, public_options, partner_handler));
  if (cfg.server.tls) {
    auto tls_options = listener_options(cfg.server, "tls", cfg.server.tls->listen);
    tls_options.tls = cfg.server.tls;
    tls_options.max_connections = connection_cap;
    tls_options.on_accept_pause = pauses.for_listener("tls");
    servers.push_back(
        std::make_unique<http::HttpServer>(partner_loops, tls_options, partner_handler));
  }
  auto admin_options = listener_options(cfg.server, "admin", cfg.admin.listen);
  admin_options.on_accept_pause = pauses.for_listener("admin");
  servers.push_back(std::make_unique<http::HttpServer>(
      std::vector<asio::io_context*>{&admin_io}, admin_options,
      [&admin](std::shared_ptr<Request> request,
               pipeline::Respond respond) -> std::shared_ptr<pipeline::PendingRequest> {
        respond(admin.handle(*request), {});  // on the admin listener's own thread
        return nullptr;
      }));
  try {
    for (auto& server : servers) server->start();
  } catch (const std::exception& e) {
    throw StartupError({e.what()}, 1);
  }

  reloader.start_services();
  runtime.observability->start();  // access-log flushes, spike intervals, log retention

  std::vector<http::HttpServer*> raw;
  for (auto& server : servers) raw.push_back(server.get());
  asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  stop_signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received {}, draining (deadline {} ms)", signal == SIGTERM ? "SIGTERM" : "SIGINT",
                 cfg.server.shutdown_timeout.count());
    std::vector<asio::io_context*> all = partner_loops;
    all.push_back(&admin_io);
    std::make_shared<Drain>(io, std::move(all), raw, cfg.server.shutdown_timeout)->start();
  });
  // SIGHUP reloads on the admin thread, like POST /admin/v1/reload; the outcome goes to the log.
  asio::signal_set hangup(io, SIGHUP);
  std::function<void()> wait_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      spdlog::info("SIGHUP received: reloading {}", options.config_file);
      asio::post(admin_io, [&reloader, audit] {
        observability::AuditRecord record;
        record.time = std::chrono::system_clock::now();
        record.action = "reload";
        record.request_id = pipeline::new_request_id();
        record.caller = "signal:SIGHUP";
        record.status = 200;
        try {
          reloader.reload();
        } catch (const StartupError&) {
          // Already logged line by line; the gateway keeps running as it was.
          record.status = 422;  // as POST /admin/v1/reload answers a refused reload
        } catch (const std::exception&) {
          record.status = 500;
        }
        audit->write(record);
      });
      wait_hangup();
    });
  };
  wait_hangup();

  std::string where = "public " + cfg.server.listen.host + ":" + std::to_string(servers[0]->port());
  if (cfg.server.tls)
    where += ", tls " + cfg.server.tls->listen.host + ":" + std::to_string(servers[1]->port());
  where += ", admin " + cfg.admin.listen.host + ":" + std::to_string(servers.back()->port());
  spdlog::info("portico listening on {} with {} I/O thread(s), {} worker(s), {} plugin(s)", where,
               threads, runtime.workers->threads(), holder.load()->plugins.size());

  // Batched state (usage counts, keys' last use) reaches the store every few seconds.
  Periodic flushes(admin_io, std::chrono::seconds(5), *runtime.workers,
                   [&runtime] { runtime.flush(); });

  // Partners and keys changed elsewhere (another node on this database, the CLI) reach the key
  // index within 250 ms: a revoked key is refused on every node within that.
  Periodic directory_refreshes(admin_io, std::chrono::milliseconds(250), *runtime.workers,
                               [&runtime] { runtime.refresh_directory(); });

  std::vector<std::thread> workers;
  workers.emplace_back([&admin_io] {
    sdk::name_this_thread("admin-io");
    admin_io.run();
  });
  // The main thread runs the first partner loop and keeps the process's name (pidof portico).
  for (int i = 1; i < threads; ++i) {
    workers.emplace_back([i, loop = partner_loops[static_cast<std::size_t>(i)]] {
      sdk::name_this_thread("io-" + std::to_string(i));
      loop->run();
    });
  }
  io.run();
  for (auto& worker : workers) worker.join();
  // Handlers still running after the drain deadline finish here (their answers go nowhere);
  // nothing of a plugin runs once its services stop.
  runtime.workers->shutdown();

  reloader.stop_services();
  runtime.observability->stop();
  runtime.flush();
  spdlog::info("stopped");
  return 0;
}

}  // namespace portico::app
