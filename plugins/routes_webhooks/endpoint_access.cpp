// The endpoint routes' shared access (endpoint_access.hpp): the caller's endpoint read and
// written through a session, and the JSON answer with the endpoints' cache rules.
#include "endpoint_access.hpp"

#include <optional>
#include <string>

#include "portico/sdk/problems.hpp"

namespace portico::routes_webhooks {
namespace {

ProblemError no_such_endpoint(const std::string& id) {
  return sdk::not_found("No webhook endpoint with id '" + id + "'.");
}

std::optional<Endpoint> load_endpoint(Session& session, const std::string& partner_id,
                                      const std::string& id) {
  if (!plausible_id(id, kEndpointIdPrefix)) return std::nullopt;
  Rows rows = session.query(std::string("SELECT ") + kEndpointColumns +
                                " FROM webhook_endpoints WHERE id = ? AND partner_id = ?",
                            {id, partner_id});
  if (rows.empty()) return std::nullopt;
  return endpoint_from_row(rows.front());
}

}  // namespace

Endpoint partner_endpoint(Session& session, const Request& request) {
  const std::string& id = request.param("id");
  std::optional<Endpoint> endpoint = load_endpoint(session, partner_of(request), id);
  if (!endpoint) throw no_such_endpoint(id);
  return std::move(*endpoint);
}

Response json_response(int status, const nlohmann::ordered_json& body, bool secret) {
  Response response;
  response.status = status;
  response.body = body.dump();
  // Answers carrying a secret must not be kept anywhere; the rest change when the gateway
  // disables an endpoint, so caches revalidate.
  response.set_header("Cache-Control", secret ? "no-store" : "private, no-cache");
  return response;
}

void write_endpoint(Session& tx, const Endpoint& e) {
  tx.execute(
      "UPDATE webhook_endpoints SET url = ?, events = ?, description = ?, status = ?,"
      " disabled_reason = ?, secret = ?, previous_secret = ?, previous_secret_expires_at = ?,"
      " signing_key = ?, public_key = ?, failing_since = ?, updated_at = ? WHERE id = ?",
      {e.url, filters_to_text(e.events), e.description, e.status,
       e.disabled_reason ? Value(*e.disabled_reason) : Value(nullptr), e.secret,
       e.previous_secret ? Value(*e.previous_secret) : Value(nullptr),
       e.previous_secret_expires_at ? Value(*e.previous_secret_expires_at) : Value(nullptr),
       e.signing_key ? Value(*e.signing_key) : Value(nullptr),
       e.public_key ? Value(*e.public_key) : Value(nullptr),
       e.failing_since ? Value(*e.failing_since) : Value(nullptr), e.updated_at, e.id});
}

}  // namespace portico::routes_webhooks
