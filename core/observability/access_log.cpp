#include "core/observability/access_log.hpp"

#include <fmt/format.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "core/observability/daily_file_sink.hpp"
#include "core/util/thread_name.hpp"
#include "core/util/time.hpp"

namespace portico::observability {
namespace {

constexpr std::size_t kMaxPath = 2048;
constexpr std::size_t kMaxUserAgent = 512;

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t len = c >= 0xF5 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  if (len == 3 && ((c == 0xE0 && byte(i + 1) < 0xA0) || (c == 0xED && byte(i + 1) > 0x9F)))
    return 0;  // overlong, or a surrogate
  if (len == 4 && ((c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) > 0x8F)))
    return 0;
  return len;
}

// A JSON string: quotes, escapes, control characters as \u00XX, invalid UTF-8 as U+FFFD.
void append_json_string(std::string& out, std::string_view s, std::size_t max_bytes) {
  if (s.size() > max_bytes) s = s.substr(0, max_bytes);
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out.append(fmt::format("\\u{:04x}", c));
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (std::size_t len = utf8_sequence(s, i); len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\\ufffd");
      ++i;
    }
  }
  out.push_back('"');
}

void append_optional(std::string& out, const std::optional<std::string_view>& value,
                     std::size_t max_bytes) {
  if (value) {
    append_json_string(out, *value, max_bytes);
  } else {
    out.append("null");
  }
}

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool base64_char(char c) {
  return alnum(c) || c == '+' || c == '/' || c == '=';
}

}  // namespace

std::string redact_secrets(std::string_view text) {
  // API keys are base62 after the prefix; webhook secrets base64.
  struct Secret {
    std::string_view prefix;
    bool (*body)(char);
  };
  static constexpr std::array<Secret, 3> kSecrets = {
      {{"pk_live_", alnum}, {"pk_test_", alnum}, {"whsec_", base64_char}}};
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t hit = std::string_view::npos;
    const Secret* found = nullptr;
    for (const auto& secret : kSecrets) {
      std::size_t at = text.find(secret.prefix, i);
      if (at < hit) {
        hit = at;
        found = &secret;
      }
    }
    if (!found) break;
    std::string_view prefix = found->prefix;
    std::size_t end = hit + prefix.size();
    while (end < text.size() && found->body(text[end])) ++end;
    out.append(text.substr(i, hit - i)).append(prefix).append("[redacted]");
    i = end;
  }
  if (i == 0) return std::string(text);
  out.append(text.substr(i));
  return out;
}

std::string format_access_line(const AccessRecord& r) {
  std::string out;
  out.reserve(320 + r.user_agent.size() + r.path.size());
  out.append("{\"time\":\"").append(util::format_rfc3339(r.time, true)).append("\"");
  out.append(",\"request_id\":");
  append_json_string(out, r.request_id, 256);
  out.append(",\"partner_id\":");
  append_optional(out, r.partner_id, 256);
  out.append(",\"key_id\":");
  append_optional(out, r.key_id, 256);
  out.append(",\"method\":");
  append_json_string(out, r.method, 32);
  out.append(",\"route\":");
  append_optional(out, r.route, kMaxPath);
  out.append(",\"path\":");
  append_json_string(out, redact_secrets(r.path), kMaxPath);
  double duration_ms = static_cast<double>(r.duration.count()) / 1e6;
  out.append(fmt::format(",\"status\":{},\"duration_ms\":{:.3f},\"bytes\":{}", r.status,
                         duration_ms, r.bytes));
  out.append(",\"client_ip\":");
  append_json_string(out, r.client_ip, 64);
  out.append(",\"user_agent\":");
  append_json_string(out, redact_secrets(r.user_agent), kMaxUserAgent);
  out.push_back('}');
  return out;
}

AccessLog::AccessLog(const std::filesystem::path& dir, std::size_t max_pending_bytes)
    : sink_(make_daily_file_sink(dir, "access", ".jsonl")),
      max_pending_bytes_(std::max<std::size_t>(max_pending_bytes, 1)) {
  sink_->set_pattern("%v");
  writer_ = std::thread([this] {
    util::name_this_thread("access-log");
    run();
  });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  writer_.join();
  drain();  // anything written after the writer's last batch
}

void AccessLog::write(const AccessRecord& record) {
  std::string line = format_access_line(record);
  std::unique_lock lock(mutex_);
  if (pending_bytes_ >= max_pending_bytes_) {
    wake_writer_.notify_one();
    room_.wait(lock, [this] { return pending_bytes_ < max_pending_bytes_ || stopping_; });
  }
  pending_bytes_ += line.size() + 1;
  pending_.push_back({record.time, std::move(line)});
}

void AccessLog::flush() {
  drain();
}

void AccessLog::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_writer_.wait_for(lock, std::chrono::milliseconds(100), [this] {
      return stopping_ || pending_bytes_ >= max_pending_bytes_;
    });
    lock.unlock();
    drain();
    lock.lock();
  }
}

void AccessLog::drain() {
  std::lock_guard writing(write_mutex_);
  std::vector<Line> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    pending_bytes_ = 0;
  }
  room_.notify_all();
  if (batch.empty()) return;
  try {
    for (const Line& line : batch) {
      spdlog::details::log_msg message(line.time, spdlog::source_loc{}, "access",
                                       spdlog::level::info,
                                       spdlog::string_view_t(line.text.data(), line.text.size()));
      sink_->log(message);
    }
    sink_->flush();
  } catch (const std::exception& e) {
    spdlog::error("access log: {} line(s) not written: {}", batch.size(), e.what());
  }
}

}  // namespace portico::observability
