#include "core/observability/access_log.hpp"

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <array>

#include "core/observability/daily_file_sink.hpp"
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

AccessLog::AccessLog(const std::filesystem::path& dir, std::size_t queue_size) {
  auto sink = make_daily_file_sink(dir, "access", ".jsonl");
  sink->set_pattern("%v");
  pool_ = std::make_shared<spdlog::details::thread_pool>(queue_size, 1);
  logger_ = std::make_shared<spdlog::async_logger>("access", std::move(sink), pool_,
                                                   spdlog::async_overflow_policy::block);
  logger_->set_level(spdlog::level::info);
  logger_->set_error_handler(
      [](const std::string& message) { spdlog::error("access log: {}", message); });
}

AccessLog::~AccessLog() {
  logger_.reset();  // queued lines hold the logger; the pool's threads write them, then stop
  pool_.reset();
}

void AccessLog::write(const AccessRecord& record) {
  std::string line = format_access_line(record);
  logger_->log(record.time, spdlog::source_loc{}, spdlog::level::info,
               spdlog::string_view_t(line.data(), line.size()));
}

void AccessLog::flush() {
  logger_->flush();
}

}  // namespace portico::observability
