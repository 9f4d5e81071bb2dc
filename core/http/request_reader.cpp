#include "core/http/request_reader.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "core/pipeline/problems.hpp"
#include "core/util/json_text.hpp"
#include "core/util/put_text.hpp"

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

void RequestParser::on_request_impl(bhttp::verb, string_view method, string_view target,
                                    int version, error_code&) {
  set_request_line(std::string_view(method.data(), method.size()),
                   std::string_view(target.data(), target.size()), static_cast<unsigned>(version));
}

void RequestParser::set_request_line(std::string_view method, std::string_view target,
                                     unsigned version) {
  head_ = method == "HEAD";  // Beast's verb::head is exactly this text
  version_ = version;
  util::assign_text(out_.method, method);
  util::assign_text(out_.target, target);
  const auto question = target.find('?');
  util::assign_text(out_.path, target.substr(0, question));
  if (question == std::string_view::npos) {
    out_.query.clear();
  } else {
    util::assign_text(out_.query, target.substr(question + 1));
  }
  out_.body.clear();
}

void RequestParser::on_field_impl(bhttp::field name, string_view name_string, string_view value,
                                  error_code&) {
  if (header_done_) return;  // a chunked trailer: read, never a request header
  const std::string_view text(value.data(), value.size());
  if (name == bhttp::field::transfer_encoding) {
    ++codings_;
    coding_.assign(text);
  }
  add_field(std::string_view(name_string.data(), name_string.size()), text,
            name == bhttp::field::host);
}

void RequestParser::add_field(std::string_view name, std::string_view value, bool host) {
  if (host) {
    ++hosts_;
    if (valid_host(value)) {
      bad_host_.clear();
    } else {
      bad_host_ = for_message(value);
    }
  }
  // Pairs the last request left are written over; the rest are added.
  auto& headers = out_.headers;
  if (fields_ < headers.size()) {
    util::assign_text(headers[fields_].first, name);
    util::assign_text(headers[fields_].second, value);
  } else {
    if (headers.empty()) headers.reserve(16);
    headers.emplace_back(std::string(name), std::string(value));
  }
  ++fields_;
}

// The plain header section, read by put_plain_head:
//   request-line = token SP target SP ( "HTTP/1.1" / "HTTP/1.0" ) CRLF, the target printable
//                  ASCII (Beast also takes bytes from 0x80 up: those go to Beast);
//   each field   = token ":" *( SP / HTAB ) value CRLF, the value printable ASCII, SP and HTAB;
//   then CRLF, within max_header bytes.
// Not plain, so left to Beast: a field Beast gives a meaning to (Content-Length,
// Transfer-Encoding, Connection, Proxy-Connection, Upgrade), a line starting with SP or HTAB
// (obs-fold), a bare CR or LF, any other control byte or a byte from 0x7F up, or a section not
// yet whole. Whatever this takes, Beast takes too and reads the same way (its grammar, in
// boost/beast/http/detail/basic_parser.ipp); the http_request fuzz target checks it.
namespace {

// RFC 9110 tchar, as Beast's is_token table.
constexpr std::array<bool, 256> kTokenBytes = [] {
  std::array<bool, 256> ok{};
  for (int c = 'a'; c <= 'z'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) ok[static_cast<unsigned char>(c)] = true;
  return ok;
}();

// Whether [from, to) holds only printable ASCII, and HTAB when `tabs`.
bool plain_text(const char* from, const char* to, bool tabs) {
  const std::string_view text(from, static_cast<std::size_t>(to - from));
  for (std::size_t at = util::plain_run<util::Plain::printable>(text); at < text.size();
       at += 1 + util::plain_run<util::Plain::printable>(text, at + 1)) {
    if (!tabs || text[at] != '\t') return false;
  }
  return true;
}

// The fields Beast reads a meaning from (basic_parser::do_field): their requests go to Beast.
bool framing_field(std::string_view name) {
  switch (name.size()) {
    case 7: return iequals(name, "upgrade");
    case 10: return iequals(name, "connection");
    case 14: return iequals(name, "content-length");
    case 16: return iequals(name, "proxy-connection");
    case 17: return iequals(name, "transfer-encoding");
    default: return false;
  }
}

}  // namespace

bool RequestParser::put_plain_head(std::string_view bytes, std::size_t max_header,
                                   std::size_t& used) {
  const char* const first = bytes.data();
  const char* const last = first + std::min(bytes.size(), max_header);
  const char* p = first;

  // request-line
  while (p < last && kTokenBytes[static_cast<unsigned char>(*p)]) ++p;
  if (p == first || p == last || *p != ' ') return false;
  const std::string_view method(first, static_cast<std::size_t>(p - first));
  const char* const target_first = ++p;
  p = static_cast<const char*>(std::memchr(p, ' ', static_cast<std::size_t>(last - p)));
  // Not empty, printable, then SP HTTP/1.x CR LF.
  if (p == nullptr || p == target_first || last - p < 11 || !plain_text(target_first, p, false)) {
    return false;
  }
  const std::string_view target(target_first, static_cast<std::size_t>(p - target_first));
  if (std::memcmp(p, " HTTP/1.", 8) != 0 || (p[8] != '1' && p[8] != '0') || p[9] != '\r' ||
      p[10] != '\n') {
    return false;
  }
  const unsigned version = p[8] == '1' ? 11 : 10;
  p += 11;

  // Fields, checked whole before anything is written: a section that is not plain leaves the
  // Request as it was for Beast. Where each field's colon and CR are is noted (for the first
  // kNoted fields) so the writing pass below does not look for them again.
  constexpr std::size_t kNoted = 16;
  struct Field {
    const char* colon;
    const char* cr;
  };
  Field noted[kNoted];
  std::size_t fields = 0;
  const char* const fields_first = p;
  for (;;) {
    if (last - p < 2) return false;
    if (p[0] == '\r' && p[1] == '\n') break;
    const char* const name_first = p;
    while (p < last && kTokenBytes[static_cast<unsigned char>(*p)]) ++p;
    if (p == name_first || p == last || *p != ':') return false;
    if (framing_field(std::string_view(name_first, static_cast<std::size_t>(p - name_first)))) {
      return false;
    }
    const auto* cr =
        static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(last - p)));
    // CR LF, and a byte after it that does not fold the line.
    if (cr == nullptr || last - cr < 3 || cr[1] != '\n' || cr[2] == ' ' || cr[2] == '\t' ||
        !plain_text(p + 1, cr, true)) {
      return false;
    }
    if (fields < kNoted) noted[fields] = {p, cr};
    ++fields;
    p = cr + 2;
  }
  used = static_cast<std::size_t>(p + 2 - first);

  set_request_line(method, target, version);
  p = fields_first;
  for (std::size_t field = 0; field < fields; ++field) {
    Field at;
    if (field < kNoted) {
      at = noted[field];
    } else {
      at.colon = static_cast<const char*>(std::memchr(p, ':', static_cast<std::size_t>(last - p)));
      at.cr = static_cast<const char*>(
          std::memchr(at.colon, '\r', static_cast<std::size_t>(last - at.colon)));
    }
    const char* const colon = at.colon;
    const char* const cr = at.cr;
    const std::string_view name(p, static_cast<std::size_t>(colon - p));
    const char* value_first = colon + 1;
    const char* value_last = cr;
    while (value_first < value_last && (*value_first == ' ' || *value_first == '\t')) ++value_first;
    while (value_last > value_first && (value_last[-1] == ' ' || value_last[-1] == '\t'))
      --value_last;
    add_field(name,
              std::string_view(value_first, static_cast<std::size_t>(value_last - value_first)),
              name.size() == 4 && iequals(name, "host"));
    p = cr + 2;
  }
  out_.headers.resize(fields_);
  header_done_ = true;
  return true;
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

RequestReader::RequestReader(std::size_t max_header, std::size_t max_body, Request& into,
                             bool plain_heads)
    : parser_(into),
      out_(into),
      max_header_(max_header),
      max_body_(max_body),
      plain_heads_(plain_heads) {
  parser_.header_limit(static_cast<std::uint32_t>(max_header));
  parser_.body_limit(max_body);
}

ReadStep RequestReader::fail(Problem problem) {
  problem_ = std::move(problem);
  return ReadStep::failed;
}

ReadStep RequestReader::read_header(beast::flat_buffer& buffer) {
  // Tried once, on the first bytes: a section that came whole in them (as a keep-alive client's
  // usually does) is read without Beast when it is plain; one that did not is left to Beast, so a
  // section trickling in is never scanned again and again.
  if (plain_heads_ && buffer.size() > 0) {
    plain_heads_ = false;
    const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
    std::size_t used = 0;
    if (parser_.put_plain_head(bytes, max_header_, used)) {
      buffer.consume(used);
      plain_ = true;
      keep_alive_ = parser_.version() >= 11;  // no Connection field: HTTP/1.1's default
      if (std::optional<std::string> problem = framing_problem()) {
        return fail(pipeline::bad_request("Malformed HTTP request: " + *problem));
      }
      return ReadStep::done;
    }
  }
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
  if (plain_) return ReadStep::done;
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
  util::assign_text(out_.client_ip, client_ip);
  out_.request_id.clear();
  out_.identity.reset();
  out_.max_json_depth = max_json_depth;
}

}  // namespace portico::http
