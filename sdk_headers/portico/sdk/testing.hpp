// A fake host for unit-testing a plugin without the core: settings, a settable clock, recorded
// log lines and an in-memory credential directory. Database and outbox refuse use unless a test
// provides real ones (core tests pass the SQLite backend).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "portico/host.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/secret_box.hpp"

namespace portico::sdk::testing {

class RefusingDatabase final : public Database {
 public:
  Rows query(std::string_view, const Params&) override {
    throw DatabaseError("no database in this test");
  }
  std::int64_t execute(std::string_view, const Params&) override {
    throw DatabaseError("no database in this test");
  }
  void execute_script(std::string_view) override {
    throw DatabaseError("no database in this test");
  }
  void transaction(const std::function<void(Session&)>&) override {
    throw DatabaseError("no database in this test");
  }
  std::string backend_name() const override { return "none"; }
};

class RefusingOutbox final : public Outbox {
 public:
  std::string append(Session&, const Event&) override {
    throw std::logic_error("no outbox in this test");
  }
  std::string append(Session&, const PreparedEvent&) override {
    throw std::logic_error("no outbox in this test");
  }
  std::vector<StoredEvent> read_after(std::int64_t, int) override {
    throw std::logic_error("no outbox in this test");
  }
  std::optional<StoredEvent> find(std::string_view) override {
    throw std::logic_error("no outbox in this test");
  }
  std::vector<StoredEvent> feed(const EventFeedQuery&) override {
    throw std::logic_error("no outbox in this test");
  }
};

class RecordingLog final : public Log {
 public:
  void write(LogLevel level, std::string_view message) override {
    lines.emplace_back(level, std::string(message));
  }
  std::vector<std::pair<LogLevel, std::string>> lines;
};

// Keys by their plain text; a real directory looks them up by keyed hash.
class InMemoryCredentials final : public CredentialDirectory {
 public:
  void add(std::string presented, ApiKeyRecord record) {
    keys_[std::move(presented)] = std::move(record);
  }
  std::optional<ApiKeyRecord> find_api_key(std::string_view presented) const override {
    auto it = keys_.find(std::string(presented));
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }
  void record_use(std::string_view key_id) override { used.emplace_back(key_id); }
  std::vector<std::string> used;

 private:
  std::map<std::string, ApiKeyRecord> keys_;
};

// The worker pool of a test: tasks wait until the test runs them, on its own thread, so a test
// decides when the "later" of an asynchronous handler happens.
class QueuedExecutor final : public Executor {
 public:
  void post(std::function<void()> task) override { tasks_.push_back(std::move(task)); }
  // Runs every queued task, and those they post, in order; returns how many ran.
  std::size_t run_all() {
    std::size_t ran = 0;
    while (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.erase(tasks_.begin());
      task();
      ++ran;
    }
    return ran;
  }
  std::size_t queued() const { return tasks_.size(); }

 private:
  std::vector<std::function<void()>> tasks_;
};

class FakeHost final : public Host {
 public:
  FakeHost(std::string name, nlohmann::json config)
      : name_(std::move(name)), config_(std::move(config)) {}

  const std::string& plugin_name() const override { return name_; }
  const nlohmann::json& config() const override { return config_; }
  Database& database() override { return database_ ? *database_ : refusing_database_; }
  Outbox& outbox() override { return outbox_ ? *outbox_ : refusing_outbox_; }
  Log& log() override { return log_; }
  CredentialDirectory& credentials() override { return credentials_; }
  std::chrono::system_clock::time_point now() const override { return now_; }
  // Sealed under a fixed test key, exactly as the core seals under the operator's data key.
  std::string seal_secret(std::string_view plaintext) override { return secrets_.seal(plaintext); }
  std::string open_secret(std::string_view sealed) override { return secrets_.open(sealed); }
  bool sealed_with_current_key(std::string_view stored) const override {
    return secrets_.sealed_with_current_key(stored);
  }
  Executor& workers() override { return workers_; }

  void set_now(std::chrono::system_clock::time_point t) { now_ = t; }
  void advance(std::chrono::milliseconds d) { now_ += d; }
  void use_database(std::shared_ptr<Database> db) { database_ = std::move(db); }
  void use_outbox(std::shared_ptr<Outbox> outbox) { outbox_ = std::move(outbox); }
  InMemoryCredentials& fake_credentials() { return credentials_; }
  RecordingLog& recorded_log() { return log_; }
  QueuedExecutor& queued_workers() { return workers_; }

 private:
  std::string name_;
  nlohmann::json config_;
  std::chrono::system_clock::time_point now_ =
      std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 56);
  RefusingDatabase refusing_database_;
  RefusingOutbox refusing_outbox_;
  std::shared_ptr<Database> database_;
  std::shared_ptr<Outbox> outbox_;
  RecordingLog log_;
  InMemoryCredentials credentials_;
  SecretBox secrets_{std::string(32, 'k')};
  QueuedExecutor workers_;
};

// Calls a route as the core would and returns its answer: a Handler directly, an AsyncHandler
// with a reply, running the host's queued worker tasks until it answers. Throws what the handler
// threw (a ProblemError for a problem), or std::logic_error when it never answers.
inline Response call(const Route& route, const Request& request, FakeHost& host) {
  if (!route.async_handler) return route.handler(request);
  std::optional<Response> answer;
  std::exception_ptr failure;
  route.async_handler(request, Reply(
                                   [&](Answer&& given, std::exception_ptr error) {
                                     answer = std::move(given).take();
                                     failure = std::move(error);
                                   },
                                   std::make_shared<CancelState>()));
  host.queued_workers().run_all();
  if (failure) std::rethrow_exception(failure);
  if (!answer) throw std::logic_error("the route did not answer");
  return std::move(*answer);
}

}  // namespace portico::sdk::testing
