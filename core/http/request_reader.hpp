// Reading one request off a connection's bytes, without the socket: Beast's parser with the
// server's limits, plus the framing rules of RFC 9112 that Beast leaves to the server —
//   * Transfer-Encoding other than exactly `chunked` (gzip, identity, "chunked, identity",
//     repeated, or on HTTP/1.0) → 400 and close: never guess where the body ends (§6.3);
//   * no Host on HTTP/1.1, two Host fields, or a malformed one → 400 (§3.2);
//   * a field value folded over lines (obs-fold) → 400 (§5.2);
//   * chunked trailer fields are read and dropped: they never become request headers (§7.1.2).
// The session feeds it from the socket; the fuzzer feeds it bytes.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <optional>
#include <string>

#include "core/http/field_arena.hpp"
#include "portico/http_types.hpp"
#include "portico/problem.hpp"

namespace portico::http {

using RequestParser =
    boost::beast::http::request_parser<boost::beast::http::string_body, FieldAllocator<char>>;

enum class ReadStep { need_more, done, failed };

class RequestReader {
 public:
  // `header_scratch`: where the header section's bytes are kept while it is read — a connection
  // passes the same string for each of its requests, so it is allocated once, not per request
  // (its capacity stays up to max_header). Null: a string of the reader's own.
  // `fields`: where the parser keeps the header fields (the caller resets it between readers,
  // once the previous one is gone). Null: the heap.
  RequestReader(std::size_t max_header, std::size_t max_body,
                std::string* header_scratch = nullptr, FieldArena* fields = nullptr);

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
  // As the header said (trailers cannot change it).
  bool keep_alive() const { return keep_alive_; }
  bool head() const { return head_; }
  unsigned version() const { return version_; }

  // The complete request as plugins see it, into `out` (see to_plugin_request): the header's
  // fields only, never trailers.
  void take_request(Request& out, std::string_view client_ip, int max_json_depth);

 private:
  ReadStep fail(Problem problem);
  std::optional<std::string> framing_problem(std::string_view raw_header) const;

  RequestParser parser_;
  std::size_t max_header_;
  std::size_t max_body_;
  std::string own_header_;
  std::string& raw_header_;  // the header section's bytes consumed so far
  std::size_t header_fields_ = 0;
  bool keep_alive_ = false;
  bool head_ = false;
  unsigned version_ = 11;
  std::optional<Problem> problem_;
};

}  // namespace portico::http
