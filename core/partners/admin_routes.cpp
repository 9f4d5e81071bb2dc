// Admin routes for partners and keys: parse the body and query, call PartnerService, answer JSON.
#include "core/partners/admin_routes.hpp"

#include "core/partners/request_checks.hpp"

namespace portico::partners {
namespace {

constexpr const char* kBase = "/admin/v1/partners";

Route admin_route(std::string method, std::string path, Handler handler) {
  Route route;
  route.method = std::move(method);
  route.path = std::move(path);
  route.authenticated = true;
  route.handler = std::move(handler);
  return route;
}

PageRequest page_of(const Request& request) { return page_request(request); }

}  // namespace

void add_partner_admin_routes(pipeline::Router& router, std::shared_ptr<PartnerService> service) {
  std::string base = kBase;
  std::string partner = base + "/{id}";
  std::string keys = partner + "/keys";
  std::string key = keys + "/{key_id}";

  router.add(admin_route("POST", base,
                         [service](const Request& r) {
                           auto body = parse_object_body(r, false);
                           return Response::json(201, service->create_partner(body));
                         }),
             "core");
  router.add(admin_route("GET", base,
                         [service](const Request& r) {
                           return Response::json(200, service->list_partners(page_of(r)));
                         }),
             "core");
  router.add(admin_route("GET", partner,
                         [service](const Request& r) {
                           return Response::json(200, service->get_partner(r.param("id")));
                         }),
             "core");
  router.add(admin_route("PATCH", partner,
                         [service](const Request& r) {
                           auto body = parse_object_body(r, false);
                           return Response::json(200, service->update_partner(r.param("id"), body));
                         }),
             "core");
  router.add(admin_route("POST", keys,
                         [service](const Request& r) {
                           auto body = parse_object_body(r, true);
                           return Response::json(201, service->issue_key(r.param("id"), body));
                         }),
             "core");
  router.add(admin_route("GET", keys,
                         [service](const Request& r) {
                           return Response::json(200,
                                                 service->list_keys(r.param("id"), page_of(r)));
                         }),
             "core");
  router.add(admin_route("DELETE", key,
                         [service](const Request& r) {
                           service->revoke_key(r.param("id"), r.param("key_id"));
                           Response response;
                           response.status = 204;
                           response.content_type.clear();
                           return response;
                         }),
             "core");
  router.add(admin_route("POST", key + "/rotate",
                         [service](const Request& r) {
                           auto body = parse_object_body(r, true);
                           return Response::json(
                               201, service->rotate_key(r.param("id"), r.param("key_id"), body));
                         }),
             "core");
}

}  // namespace portico::partners
