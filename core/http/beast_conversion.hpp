// Conversions between Beast messages and the plugin API's plain Request/Response.
// Internal to core/http.
#pragma once

#include <boost/beast/http.hpp>

#include <string>

#include "core/http/field_arena.hpp"

#include "portico/http_types.hpp"

namespace portico::http {

// As the parser makes it: its fields in the connection's FieldArena.
using BeastRequest = boost::beast::http::request<boost::beast::http::string_body,
                                                 boost::beast::http::basic_fields<FieldAllocator<char>>>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Makes `out` the request plugins see, in its own memory: a Request filled again for the next
// request on the connection keeps its strings, header pairs and path parameters, so one like the
// last allocates nothing. Everything the pipeline sets later (request id, identity, path
// parameters' values) is reset. `header_fields`: how many of the message's fields came in the
// header section; the rest (chunked trailers, which Beast appends) are left out.
void to_plugin_request(BeastRequest&& req, std::string_view client_ip, Request& out,
                       std::size_t header_fields = static_cast<std::size_t>(-1));

// A response as bytes on the wire: the status line and header block in `head`, the body apart so
// it is sent from where it is, not copied — moved out of an answer of the handler's own, or left
// in a shared answer, which is kept until it is written. Written directly rather than through
// Beast's serializer, which costs an allocation per header field and an iterator walk per buffer.
struct WireResponse {
  std::string head;
  std::string body;       // the body of an answer of the handler's own
  SharedResponse shared;  // a shared answer whose body is to be sent
  std::string_view body_bytes() const { return shared ? std::string_view(shared->body) : body; }
};

// `head_request`: a HEAD request (headers of the GET, no body). `keep_alive` decides Connection
// (HTTP/1.1: `close` when not kept; HTTP/1.0: `keep-alive` when kept). CR and LF inside a header
// name or value become spaces: no handler can split a response. `core_headers`: the gateway's
// own header lines, already "Name: value\r\n" and made safe by the pipeline (Respond), written
// after the handler's headers as they are.
WireResponse to_wire_response(Answer&& answer, unsigned version, bool head_request,
                              bool keep_alive, std::string_view core_headers = {});
// The same into `out`, whose head keeps its capacity from one response to the next (a connection
// reuses one WireResponse: no allocation for the head once it has grown).
void write_wire_response(Answer&& answer, std::string_view core_headers, unsigned version,
                         bool head_request, bool keep_alive, WireResponse& out);

}  // namespace portico::http
