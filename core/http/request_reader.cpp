#include "core/http/request_reader.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

#include <array>
#include <cstdint>
#include <cstring>

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
constexpr std::array<bool, 256> kHostBytes = [] {
  std::array<bool, 256> ok{};
  for (int c = 'a'; c <= 'z'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (const char c : std::string_view("-._~!$&'()*+,;=:[]%")) {
    ok[static_cast<unsigned char>(c)] = true;
  }
  return ok;
}();

bool valid_host(std::string_view host) {
  for (const unsigned char c : host) {
    if (!kHostBytes[c]) return false;
  }
  return true;
}

// For messages: a client-sent value, shortened and without control characters.
std::string for_message(std::string_view value) {
  std::string out = "'";
  for (char c : value.substr(0, 40)) out.push_back(c < 0x20 || c == 0x7f ? '?' : c);
  if (value.size() > 40) out += "...";
  return out + "'";
}

}  // namespace

// RequestParser: Beast's views copied once, into the Request.

void RequestParser::on_request_impl(bhttp::verb method, string_view method_str, string_view target,
                                    int version, error_code&) {
  head_ = method == bhttp::verb::head;
  version_ = static_cast<unsigned>(version);
  out_.method.assign(method_str.data(), method_str.size());
  out_.target.assign(target.data(), target.size());
  const std::string_view whole = out_.target;
  const auto question = whole.find('?');
  out_.path.assign(whole.substr(0, question));
  if (question == std::string_view::npos) {
    out_.query.clear();
  } else {
    out_.query.assign(whole.substr(question + 1));
  }
  out_.body.clear();
}

void RequestParser::on_field_impl(bhttp::field name, string_view name_string, string_view value,
                                  error_code&) {
  if (header_done_) return;  // a chunked trailer: read, never a request header
  const std::string_view text(value.data(), value.size());
  if (name == bhttp::field::host) {
    ++hosts_;
    if (valid_host(text)) {
      bad_host_.clear();
    } else {
      bad_host_ = for_message(text);
    }
  } else if (name == bhttp::field::transfer_encoding) {
    ++codings_;
    coding_.assign(text);
  }
  // Pairs the last request left are written over; the rest are added.
  auto& headers = out_.headers;
  if (fields_ < headers.size()) {
    headers[fields_].first.assign(name_string.data(), name_string.size());
    headers[fields_].second.assign(text);
  } else {
    if (headers.empty()) headers.reserve(16);
    headers.emplace_back(std::string(name_string.data(), name_string.size()), std::string(text));
  }
  ++fields_;
}

void RequestParser::on_header_impl(error_code&) {
  out_.headers.resize(fields_);  // the last request's further pairs are dropped
  header_done_ = true;
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      error_code&) {
  // Beast has refused a length over the body limit by now.
  if (content_length) out_.body.reserve(static_cast<std::size_t>(*content_length));
}

std::size_t RequestParser::on_body_impl(string_view body, error_code&) {
  out_.body.append(body.data(), body.size());
  return body.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code&) {
  out_.body.append(body.data(), body.size());  // Beast holds chunks to the body limit
  return body.size();
}

RequestReader::RequestReader(std::size_t max_header, std::size_t max_body, Request& into)
    : parser_(into), out_(into), max_header_(max_header), max_body_(max_body) {
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
    // Beast may take the start line and whole fields before the header is complete, and has
    // copied what it took into the Request; the obs-fold check reads the bytes as they came,
    // before they are consumed: a CR LF followed by SP or HTAB. Beast takes a field only once it
    // has seen the byte after its CR LF, so a fold never spans two takes but for the CR LF that
    // ended the last one.
    const char* bytes = static_cast<const char*>(data.data());
    if (used > 0) {
      if (crlf_before_ && (bytes[0] == ' ' || bytes[0] == '\t')) folded_ = true;
      for (const char* at = static_cast<const char*>(std::memchr(bytes, '\n', used));
           at != nullptr && !folded_;
           at = static_cast<const char*>(std::memchr(at + 1, '\n', bytes + used - at - 1))) {
        const bool crlf = at > bytes && at[-1] == '\r';
        if (crlf && at + 1 < bytes + used && (at[1] == ' ' || at[1] == '\t')) folded_ = true;
      }
      crlf_before_ = used >= 2 && bytes[used - 2] == '\r' && bytes[used - 1] == '\n';
    }
    header_bytes_ += used;
    buffer.consume(used);
    if (ec == bhttp::error::need_more && used == 0) {
      // Beast refuses a header past header_limit once it sees it whole; a buffer that keeps
      // growing without a complete header is refused here.
      if (buffer.size() + header_bytes_ > max_header_) {
        return fail(pipeline::header_too_large(max_header_));
      }
      return ReadStep::need_more;
    }
  }
  if (std::optional<std::string> problem = framing_problem()) {
    return fail(pipeline::bad_request("Malformed HTTP request: " + *problem));
  }
  keep_alive_ = parser_.keep_alive();
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

std::optional<std::string> RequestReader::framing_problem() const {
  if (folded_) {
    return "a header field value is folded over several lines (obs-fold), which is not "
           "accepted (RFC 9112 section 5.2).";
  }
  const std::size_t codings = parser_.codings();
  if (codings > 0) {
    if (parser_.version() < 11) {
      return "Transfer-Encoding is not allowed in an HTTP/1.0 request (RFC 9112 section 6.1).";
    }
    if (codings > 1 || !iequals(trim(parser_.coding()), "chunked")) {
      return "Transfer-Encoding " + for_message(parser_.coding()) +
             " is not supported: send the body with Content-Length or as 'Transfer-Encoding: "
             "chunked' alone (RFC 9112 section 6.3).";
    }
  }
  const std::size_t hosts = parser_.hosts();
  if (hosts > 1) return "the request has more than one Host header (RFC 9112 section 3.2).";
  if (hosts == 0 && parser_.version() >= 11) {
    return "an HTTP/1.1 request needs a Host header (RFC 9112 section 3.2).";
  }
  if (hosts == 1 && !parser_.bad_host().empty()) {
    return "the Host header " + parser_.bad_host() + " is not a valid host (RFC 9112 section 3.2).";
  }
  return std::nullopt;
}

void RequestReader::finish_request(std::string_view client_ip, int max_json_depth) {
  out_.client_ip.assign(client_ip);
  out_.request_id.clear();
  out_.identity.reset();
  out_.max_json_depth = max_json_depth;
}

}  // namespace portico::http
