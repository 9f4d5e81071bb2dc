// Conversions between Beast messages and the plugin API's plain Request/Response.
// Internal to core/http.
#pragma once

#include <boost/beast/http.hpp>

#include <string>

#include "portico/http_types.hpp"

namespace portico::http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

Request to_plugin_request(BeastRequest&& req, std::string client_ip);

// `head`: a HEAD request (headers of the GET, no body). `keep_alive` decides Connection.
BeastResponse to_beast_response(Response&& res, unsigned version, bool head, bool keep_alive);

}  // namespace portico::http
