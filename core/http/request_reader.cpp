#include "core/http/request_reader.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

#include <cstdint>
#include <tuple>

#include "core/http/beast_conversion.hpp"
#include "core/pipeline/problems.hpp"

namespace portico::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// uri-host [":" port] (RFC 3986 reg-name, IPv4 or an IP literal in brackets), or empty.
bool valid_host(std::string_view host) {
  for (unsigned char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("-._~!$&'()*+,;=:[]%").find(static_cast<char>(c)) !=
                        std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// For messages: a client-sent value, shortened and without control characters.
std::string quoted(std::string_view value) {
  std::string out = "'";
  for (char c : value.substr(0, 40)) out.push_back(c < 0x20 || c == 0x7f ? '?' : c);
  if (value.size() > 40) out += "...";
  return out + "'";
}

}  // namespace

RequestReader::RequestReader(std::size_t max_header, std::size_t max_body,
                             std::string* header_scratch, FieldArena* fields)
    : parser_(std::piecewise_construct, std::make_tuple(),
              std::make_tuple(FieldAllocator<char>(fields))),
      max_header_(max_header),
      max_body_(max_body),
      raw_header_(header_scratch ? *header_scratch : own_header_) {
  raw_header_.clear();
  parser_.header_limit(static_cast<std::uint32_t>(max_header));
  parser_.body_limit(max_body);
}

ReadStep RequestReader::fail(Problem problem) {
  problem_ = std::move(problem);
  return ReadStep::failed;
}

ReadStep RequestReader::read_header(beast::flat_buffer& buffer) {
  while (!parser_.is_header_done()) {
    if (buffer.size() == 0) return ReadStep::need_more;
    beast::error_code ec;
    const auto data = buffer.data();
    const std::size_t used = parser_.put(data, ec);
    if (ec && ec != bhttp::error::need_more) {
      problem_ = problem_for(ec);
      return ReadStep::failed;
    }
    // Beast may take the start line and whole fields before the header is complete; the framing
    // checks need the header section's bytes as they came, so keep them (at most max_header).
    raw_header_.append(static_cast<const char*>(data.data()), used);
    buffer.consume(used);
    if (ec == bhttp::error::need_more && used == 0) {
      // Beast refuses a header past header_limit once it sees it whole; a buffer that keeps
      // growing without a complete header is refused here.
      if (buffer.size() + raw_header_.size() > max_header_) {
        return fail(pipeline::header_too_large(max_header_));
      }
      return ReadStep::need_more;
    }
  }
  std::optional<std::string> problem = framing_problem(raw_header_);
  raw_header_.clear();
  if (problem) return fail(pipeline::bad_request("Malformed HTTP request: " + *problem));
  const auto& message = parser_.get();
  header_fields_ = static_cast<std::size_t>(std::distance(message.begin(), message.end()));
  keep_alive_ = message.keep_alive();
  head_ = message.method() == bhttp::verb::head;
  version_ = message.version();
  return ReadStep::done;
}

ReadStep RequestReader::read_body(beast::flat_buffer& buffer) {
  while (!parser_.is_done()) {
    if (buffer.size() == 0) return ReadStep::need_more;
    beast::error_code ec;
    const std::size_t used = parser_.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) {
      if (used == 0) return ReadStep::need_more;
      continue;
    }
    if (ec) {
      problem_ = problem_for(ec);
      return ReadStep::failed;
    }
  }
  return ReadStep::done;
}

std::optional<Problem> RequestReader::problem_for(beast::error_code ec) const {
  if (ec == bhttp::error::body_limit) return pipeline::payload_too_large(max_body_);
  if (ec == bhttp::error::header_limit) return pipeline::header_too_large(max_header_);
  if (ec == bhttp::error::end_of_stream ||
      ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
      ec == boost::asio::error::operation_aborted ||
      ec == boost::asio::ssl::error::stream_truncated || ec == bhttp::error::partial_message) {
    return std::nullopt;
  }
  if (ec.category() == beast::error_code(bhttp::error::bad_target).category()) {
    return pipeline::bad_request("Malformed HTTP request: " + ec.message() + ".");
  }
  return std::nullopt;
}

std::optional<std::string> RequestReader::framing_problem(std::string_view raw) const {
  // obs-fold: a line of the header section that starts with a space or a tab. The request line
  // cannot (Beast refuses it), so any CRLF followed by SP/HTAB is a folded field value.
  for (std::size_t at = raw.find("\r\n"); at != std::string_view::npos;
       at = raw.find("\r\n", at + 2)) {
    if (at + 2 < raw.size() && (raw[at + 2] == ' ' || raw[at + 2] == '\t')) {
      return "a header field value is folded over several lines (obs-fold), which is not "
             "accepted (RFC 9112 section 5.2).";
    }
  }
  const auto& message = parser_.get();
  std::size_t hosts = 0, codings = 0;
  std::string_view host, coding;
  for (const auto& field : message) {
    if (field.name() == bhttp::field::host) {
      ++hosts;
      host = field.value();
    } else if (field.name() == bhttp::field::transfer_encoding) {
      ++codings;
      coding = field.value();
    }
  }
  if (codings > 0) {
    if (message.version() < 11) {
      return "Transfer-Encoding is not allowed in an HTTP/1.0 request (RFC 9112 section 6.1).";
    }
    if (codings > 1 || !iequals(trim(coding), "chunked")) {
      return "Transfer-Encoding " + quoted(coding) +
             " is not supported: send the body with Content-Length or as 'Transfer-Encoding: "
             "chunked' alone (RFC 9112 section 6.3).";
    }
  }
  if (hosts > 1) return "the request has more than one Host header (RFC 9112 section 3.2).";
  if (hosts == 0 && message.version() >= 11) {
    return "an HTTP/1.1 request needs a Host header (RFC 9112 section 3.2).";
  }
  if (hosts == 1 && !valid_host(host)) {
    return "the Host header " + quoted(host) + " is not a valid host (RFC 9112 section 3.2).";
  }
  return std::nullopt;
}

void RequestReader::take_request(Request& out, std::string_view client_ip, int max_json_depth) {
  to_plugin_request(parser_.release(), client_ip, out, header_fields_);
  out.max_json_depth = max_json_depth;
}

}  // namespace portico::http
