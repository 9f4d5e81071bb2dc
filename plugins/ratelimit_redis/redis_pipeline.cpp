// The pipelined Redis client (redis_pipeline.hpp), on hiredis's blocking API with timeouts: only
// the pipeline's own thread ever waits on the socket.
#include "redis_pipeline.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <memory>
#include <string_view>
#include <utility>

namespace portico::ratelimit_redis {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using OwnedReply = std::unique_ptr<redisReply, ReplyDeleter>;

RedisReply convert(const redisReply& reply) {
  RedisReply out;
  switch (reply.type) {
    case REDIS_REPLY_INTEGER:
      out.values.push_back(reply.integer);
      break;
    case REDIS_REPLY_ARRAY:
      for (std::size_t i = 0; i < reply.elements; ++i) {
        const redisReply* element = reply.element[i];
        if (!element || element->type != REDIS_REPLY_INTEGER) {
          out.kind = RedisReply::Kind::error;
          out.error = "unexpected reply element (not an integer)";
          return out;
        }
        out.values.push_back(element->integer);
      }
      break;
    case REDIS_REPLY_ERROR:
      out.kind = RedisReply::Kind::error;
      out.error.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_STRING:
      break;  // OK / a SHA: nothing to hand back
    default:
      out.kind = RedisReply::Kind::error;
      out.error = "unexpected reply type " + std::to_string(reply.type);
  }
  return out;
}

RedisReply unreachable(std::string why) {
  RedisReply out;
  out.kind = RedisReply::Kind::unreachable;
  out.error = std::move(why);
  return out;
}

// A command's arguments as hiredis takes them (pointers and lengths into strings that outlive it).
struct Argv {
  std::vector<const char*> values;
  std::vector<std::size_t> lengths;
  void add(std::string_view arg) {
    values.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  void add(const std::vector<std::string>& args) {
    for (const auto& arg : args) add(arg);
  }
  int count() const { return static_cast<int>(values.size()); }
};

// One command on a context, waiting for its reply (connection set-up only).
OwnedReply command(redisContext* context, const std::vector<std::string>& args) {
  Argv argv;
  argv.add(args);
  return OwnedReply(static_cast<redisReply*>(
      redisCommandArgv(context, argv.count(), argv.values.data(), argv.lengths.data())));
}

}  // namespace

RedisPipeline::RedisPipeline(RedisSettings settings,
                             std::function<void(bool, const std::string&)> on_state)
    : settings_(std::move(settings)), on_state_(std::move(on_state)) {
  thread_ = std::thread([this] { run(); });
}

RedisPipeline::~RedisPipeline() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  disconnect();
}

void RedisPipeline::submit_script(std::vector<std::string> args, Callback done) {
  enqueue({std::move(args), std::move(done)});
}

void RedisPipeline::enqueue(Call call) {
  bool stopping = false;
  {
    std::lock_guard lock(mutex_);
    stopping = stopping_;
    if (!stopping_ && queue_.size() < settings_.max_pending) {
      queue_.push_back(std::move(call));
      if (queue_.size() == 1) wake_.notify_one();
      return;
    }
  }
  call.done(unreachable(stopping ? "the Redis client is stopping" : "too many Redis calls pending"));
}

bool RedisPipeline::up() const {
  std::lock_guard lock(mutex_);
  return up_;
}

void RedisPipeline::run() {
  std::vector<Call> calls;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        // Whatever is still queued fails now: nothing may hang on a stopping policy.
        calls.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
        queue_.clear();
        lock.unlock();
        for (auto& call : calls) call.done(unreachable("the Redis client is stopping"));
        return;
      }
      // At most kBatch per round trip, so one slow burst does not delay the calls behind it.
      constexpr std::size_t kBatch = 1024;
      const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(std::min(kBatch, queue_.size()));
      calls.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
      queue_.erase(queue_.begin(), end);
    }
    send(calls);
    calls.clear();
  }
}

void RedisPipeline::send(std::vector<Call>& calls) {
  std::string why;
  if (!context_) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_attempt_) {
      for (auto& call : calls) call.done(unreachable("Redis is unreachable (retrying)"));
      return;
    }
    if (!connect(why)) {
      next_attempt_ = now + settings_.retry_interval;
      for (auto& call : calls) call.done(unreachable(why));
      return;
    }
  }
  for (const auto& call : calls) {
    Argv argv;
    argv.add("EVALSHA");
    argv.add(sha_);
    argv.add(call.args);
    redisAppendCommandArgv(context_, argv.count(), argv.values.data(), argv.lengths.data());
  }
  std::size_t answered = 0;
  bool reload = false;
  for (; answered < calls.size(); ++answered) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || !raw) {
      why = std::string("Redis connection lost: ") +
            (context_->errstr[0] ? context_->errstr : "no reply");
      break;
    }
    OwnedReply reply(static_cast<redisReply*>(raw));
    RedisReply converted = convert(*reply);
    if (converted.kind == RedisReply::Kind::error && converted.error.starts_with("NOSCRIPT")) {
      reload = true;
    }
    calls[answered].done(std::move(converted));
  }
  bool lost = answered < calls.size();
  if (!lost && reload && !load_script(context_, why)) lost = true;  // reconnect, load again
  if (lost) {
    disconnect();
    {
      std::lock_guard lock(mutex_);
      up_ = false;
    }
    if (on_state_) on_state_(false, why);
    for (; answered < calls.size(); ++answered) calls[answered].done(unreachable(why));
  }
}

bool RedisPipeline::connect(std::string& why) {
  const RedisAddress& address = settings_.address;
  const timeval timeout = to_timeval(settings_.connect_timeout);
  redisContext* context =
      address.socket_path.empty()
          ? redisConnectWithTimeout(address.host.c_str(), address.port, timeout)
          : redisConnectUnixWithTimeout(address.socket_path.c_str(), timeout);
  const std::string where = address.socket_path.empty()
                                ? address.host + ":" + std::to_string(address.port)
                                : address.socket_path;
  if (!context || context->err) {
    why = "cannot connect to Redis at " + where + ": " +
          (context ? context->errstr : "out of memory");
    if (context) redisFree(context);
    {
      std::lock_guard lock(mutex_);
      up_ = false;
    }
    if (on_state_) on_state_(false, why);
    return false;
  }
  redisSetTimeout(context, to_timeval(settings_.command_timeout));
  auto fail = [&](const std::string& what) {
    why = "Redis at " + where + " refused " + what;
    redisFree(context);
    {
      std::lock_guard lock(mutex_);
      up_ = false;
    }
    if (on_state_) on_state_(false, why);
    return false;
  };
  if (!address.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!address.user.empty()) auth.push_back(address.user);
    auth.push_back(address.password);
    OwnedReply reply = command(context, auth);
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      return fail("AUTH: " + (reply ? std::string(reply->str, reply->len) : "no reply"));
    }
  }
  if (address.db != 0) {
    OwnedReply reply = command(context, {"SELECT", std::to_string(address.db)});
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      return fail("SELECT " + std::to_string(address.db) + ": " +
                  (reply ? std::string(reply->str, reply->len) : "no reply"));
    }
  }
  if (!settings_.script.empty() && !load_script(context, why)) {
    redisFree(context);
    {
      std::lock_guard lock(mutex_);
      up_ = false;
    }
    if (on_state_) on_state_(false, why);
    return false;
  }
  context_ = context;
  {
    std::lock_guard lock(mutex_);
    up_ = true;
  }
  next_attempt_ = {};
  if (on_state_) on_state_(true, "connected to Redis at " + where);
  return true;
}

bool RedisPipeline::load_script(redisContext* context, std::string& why) {
  OwnedReply reply = command(context, {"SCRIPT", "LOAD", settings_.script});
  if (!reply || reply->type != REDIS_REPLY_STRING) {
    why = "Redis refused SCRIPT LOAD: " +
          (reply && reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len)
                                                     : std::string(context->errstr));
    return false;
  }
  sha_.assign(reply->str, reply->len);
  return true;
}

void RedisPipeline::disconnect() {
  if (context_) redisFree(context_);
  context_ = nullptr;
}

}  // namespace portico::ratelimit_redis
