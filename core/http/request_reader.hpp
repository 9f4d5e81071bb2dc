// Reading one request off a connection's bytes, without the socket: Beast's parser with the
// server's limits, plus the framing rules of RFC 9112 that Beast leaves to the server —
//   * Transfer-Encoding other than exactly `chunked` (gzip, identity, "chunked, identity",
//     repeated, or on HTTP/1.0) → 400 and close: never guess where the body ends (§6.3);
//   * no Host on HTTP/1.1, two Host fields, or a malformed one → 400 (§3.2);
//   * a field value folded over lines (obs-fold) → 400 (§5.2);
//   * chunked trailer fields are read and dropped: they never become request headers (§7.1.2).
// The request is written straight into the Request plugins see: Beast's grammar (basic_parser)
// hands over each part as a view of the bytes read, and it is copied once, into strings that a
// reused Request keeps from one request to the next (the I/O thread's pool: session.hpp) — no
// field container in between.
// A header section of the plain kind (no body, no Connection or Upgrade, nothing folded, nothing
// outside printable ASCII) is read by a scan of our own into the same strings; anything else goes
// to Beast. The session feeds it from the socket; the fuzzer feeds it bytes, both ways, and
// compares.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "portico/http_types.hpp"
#include "portico/problem.hpp"

namespace portico::http {

// Beast's request grammar writing into a Request: method, target, path, query, the header
// section's fields in order (names as received) and the body. Fields after the header section
// (chunked trailers) are parsed and dropped. Notes what the framing checks need as it goes.
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  explicit RequestParser(Request& into) : out_(into) {}

  // The header section at the front of `bytes` read without Beast, when it is of the plain kind
  // nearly every client sends (request_reader.cpp says which): the Request, head(), version(),
  // hosts() and bad_host() are then what Beast's reading would have left, and `used` is the
  // section's size. Otherwise false, leaving this parser as it was: Beast reads the bytes.
  bool put_plain_head(std::string_view bytes, std::size_t max_header, std::size_t& used);

  bool head() const { return head_; }
  unsigned version() const { return version_; }
  std::size_t hosts() const { return hosts_; }
  std::size_t codings() const { return codings_; }
  const std::string& coding() const { return coding_; }  // the last Transfer-Encoding value
  // The Host value, quoted for a message, when the last one is not a valid host; else empty.
  const std::string& bad_host() const { return bad_host_; }

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;
  void on_request_impl(boost::beast::http::verb method, string_view method_str, string_view target,
                       int version, error_code& ec) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code& ec) override;
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
  void on_finish_impl(error_code&) override {}
  // What a request line and a header field write into the Request, however they were read.
  void set_request_line(std::string_view method, std::string_view target, unsigned version);
  void add_field(std::string_view name, std::string_view value, bool host);

  Request& out_;
  std::size_t fields_ = 0;
  bool header_done_ = false;
  bool head_ = false;
  unsigned version_ = 11;
  std::size_t hosts_ = 0;
  std::size_t codings_ = 0;
  std::string coding_;
  std::string bad_host_;
};

enum class ReadStep { need_more, done, failed };

class RequestReader {
 public:
  // Reads into `into`: a connection passes the same Request for each of its requests (unless
  // something still holds the last one), so its strings keep their memory and a request like the
  // last allocates nothing. What the last request had and this one has not is gone once the
  // header is read.
  // `plain_heads` = false: every header section goes through Beast (the fuzzer compares the two).
  RequestReader(std::size_t max_header, std::size_t max_body, Request& into,
                bool plain_heads = true);

  // Parses the header section from the front of `buffer`, consuming it (the body or a pipelined
  // request stays). need_more: read more bytes into `buffer` and call again; failed: problem()
  // says what to answer before closing (or nothing: just close).
  ReadStep read_header(boost::beast::flat_buffer& buffer);
  // After the header: the body from `buffer`, synchronously (the session reads it with Beast's
  // async_read on parser() instead; the result is the same).
  ReadStep read_body(boost::beast::flat_buffer& buffer);
  // After an error from Beast while reading: what to answer, or nullopt to just close.
  std::optional<Problem> problem_for(boost::beast::error_code ec) const;
  const std::optional<Problem>& problem() const { return problem_; }

  RequestParser& parser() { return parser_; }
  // The request is whole: its header read and its body, if any, too. When false after
  // read_header(), the session reads the body with Beast's async_read on parser().
  bool complete() const { return plain_ || parser_.is_done(); }
  // As the header said (trailers cannot change it).
  bool keep_alive() const { return keep_alive_; }
  bool head() const { return parser_.head(); }
  unsigned version() const { return parser_.version(); }

  // The request complete: what the connection adds (the client's address, the JSON depth
  // allowed) written in, and what the pipeline sets later (request id, identity) cleared.
  // Path parameters are left as they are: the router writes its values in place, or clears them.
  void finish_request(std::string_view client_ip, int max_json_depth);

 private:
  ReadStep fail(Problem problem);
  std::optional<std::string> framing_problem() const;

  RequestParser parser_;
  Request& out_;
  std::size_t max_header_;
  std::size_t max_body_;
  std::size_t header_bytes_ = 0;  // of the header section, consumed so far
  bool folded_ = false;           // a line of the header section starts with SP or HTAB
  bool crlf_before_ = false;      // the bytes taken last ended with CR LF
  bool keep_alive_ = false;
  bool plain_heads_ = true;  // RequestParser::put_plain_head still to be tried
  bool plain_ = false;       // this request's header section was read so: it has no body
  std::optional<Problem> problem_;
};

}  // namespace portico::http
