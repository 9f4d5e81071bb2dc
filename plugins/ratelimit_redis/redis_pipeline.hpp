// A Redis connection on a thread of its own that pipelines what it is given: callers submit a
// command and a callback from any thread and never wait; the thread sends everything queued
// meanwhile in one write and reads the replies in order, so under load one round trip serves many
// requests. While the server cannot be reached, calls fail at once (no caller waits for a connect
// timeout) and the thread tries again every `retry_interval`; the first call after it is back
// succeeds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "redis_url.hpp"

struct redisContext;

namespace portico::ratelimit_redis {

struct RedisReply {
  enum class Kind { ok, unreachable, error };
  Kind kind = Kind::ok;
  std::string error;                // unreachable / error: what happened
  std::vector<std::int64_t> values;  // an integer reply, or an array of integers
};

struct RedisSettings {
  RedisAddress address;
  std::chrono::milliseconds connect_timeout{200};
  std::chrono::milliseconds command_timeout{200};
  std::chrono::milliseconds retry_interval{500};
  std::size_t max_pending = 100'000;  // beyond it calls fail at once (the server is too slow)
  std::string script;                 // loaded (SCRIPT LOAD) on every connection; see submit_script
};

class RedisPipeline {
 public:
  using Callback = std::function<void(RedisReply&&)>;

  // `on_state` is told when the connection comes up (true) or goes down (false, with why), on the
  // pipeline's thread.
  RedisPipeline(RedisSettings settings, std::function<void(bool, const std::string&)> on_state);
  ~RedisPipeline();
  RedisPipeline(const RedisPipeline&) = delete;
  RedisPipeline& operator=(const RedisPipeline&) = delete;

  // Queues EVALSHA of the settings' script with `args` (numkeys, keys, arguments); `done` runs
  // once, on the pipeline's thread (or on this one when the pipeline is stopping or full). Never
  // blocks. The script is loaded on every connection, and again after a NOSCRIPT (a SCRIPT FLUSH
  // or a failover).
  void submit_script(std::vector<std::string> args, Callback done);

  // Whether the last attempt to reach the server succeeded (a hint: calls may still fail).
  bool up() const;

 private:
  struct Call {
    std::vector<std::string> args;  // EVALSHA's arguments after the SHA
    Callback done;
  };
  void enqueue(Call call);
  bool load_script(redisContext* context, std::string& why);
  void run();
  bool connect(std::string& why);
  void disconnect();
  void send(std::vector<Call>& calls);

  RedisSettings settings_;
  std::function<void(bool, const std::string&)> on_state_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Call> queue_;
  bool stopping_ = false;
  bool up_ = false;
  redisContext* context_ = nullptr;  // the thread's alone
  std::string sha_;                  // of settings_.script on context_
  std::chrono::steady_clock::time_point next_attempt_{};
  std::thread thread_;
};

}  // namespace portico::ratelimit_redis
