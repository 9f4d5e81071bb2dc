#include "core/app/gateway.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <thread>

#include "core/app/admin_api.hpp"
#include "core/app/logging.hpp"
#include "core/app/reload.hpp"
#include "core/app/runtime.hpp"
#include "core/http/http_server.hpp"
#include "core/storage/outbox.hpp"

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
  return o;
}

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

  auto first = build_snapshot(config, fresh_plugins(std::move(prepared)), runtime, 1);
  first->on_internal_error = [](const Request& request, std::string_view what) {
    spdlog::error("request {} {} {} failed: {}", request.request_id, request.method, request.path,
                  what);
  };
  runtime.ratelimit->replace(ratelimit_candidate(*first), runtime.clock());
  holder.store(std::move(first));
  Reloader reloader(options.config_file, options.overrides, holder, runtime);

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
  auto partner_handler = [&holder](Request& request) { return holder.load()->handle(request); };
  AdminApi admin(
      holder, runtime.db, runtime.partners.service, runtime.usage,
      [observability = runtime.observability](const pipeline::Snapshot& snapshot) {
        return observability->render_metrics(snapshot);
      },
      &reloader);

  std::vector<std::unique_ptr<http::HttpServer>> servers;
  servers.push_back(std::make_unique<http::HttpServer>(
      partner_loops, listener_options(cfg.server, "public", cfg.server.listen), partner_handler));
  if (cfg.server.tls) {
    auto tls_options = listener_options(cfg.server, "tls", cfg.server.tls->listen);
    tls_options.tls = cfg.server.tls;
    servers.push_back(
        std::make_unique<http::HttpServer>(partner_loops, tls_options, partner_handler));
  }
  servers.push_back(std::make_unique<http::HttpServer>(
      std::vector<asio::io_context*>{&admin_io},
      listener_options(cfg.server, "admin", cfg.admin.listen),
      [&admin](Request& request) { return admin.handle(request); }));
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
      asio::post(admin_io, [&reloader] {
        try {
          reloader.reload();
        } catch (const std::exception&) {
          // Already logged line by line; the gateway keeps running as it was.
        }
      });
      wait_hangup();
    });
  };
  wait_hangup();

  std::string where = "public " + cfg.server.listen.host + ":" + std::to_string(servers[0]->port());
  if (cfg.server.tls)
    where += ", tls " + cfg.server.tls->listen.host + ":" + std::to_string(servers[1]->port());
  where += ", admin " + cfg.admin.listen.host + ":" + std::to_string(servers.back()->port());
  spdlog::info("portico listening on {} with {} thread(s), {} plugin(s)", where, threads,
               holder.load()->plugins.size());

  // Batched state (usage counts, keys' last use) reaches the store every few seconds.
  asio::steady_timer flush_timer(admin_io);  // off the partner loops: a flush writes to SQLite
  std::function<void()> schedule_flush = [&] {
    flush_timer.expires_after(std::chrono::seconds(5));
    flush_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      runtime.flush();
      schedule_flush();
    });
  };
  schedule_flush();

  std::vector<std::thread> workers;
  workers.emplace_back([&admin_io] { admin_io.run(); });
  for (int i = 1; i < threads; ++i) {
    workers.emplace_back([loop = partner_loops[static_cast<std::size_t>(i)]] { loop->run(); });
  }
  io.run();
  for (auto& worker : workers) worker.join();

  reloader.stop_services();
  runtime.observability->stop();
  runtime.flush();
  spdlog::info("stopped");
  return 0;
}

}  // namespace portico::app
