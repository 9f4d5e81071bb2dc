// Responses from the plugin API's plain Response to bytes on the wire.
// Internal to core/http.
#pragma once

#include <boost/beast/http.hpp>

#include <string>

#include "portico/http_types.hpp"

namespace portico::http {

using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

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
