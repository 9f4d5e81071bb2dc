// The partner and key routes of the admin API (/admin/v1/partners...), on top of PartnerService.
#pragma once

#include <memory>

#include "core/partners/partner_service.hpp"
#include "core/pipeline/router.hpp"

namespace portico::partners {

// Adds POST/GET /admin/v1/partners, GET/PATCH /admin/v1/partners/{id},
// POST/GET /admin/v1/partners/{id}/keys, DELETE /admin/v1/partners/{id}/keys/{key_id} and
// POST /admin/v1/partners/{id}/keys/{key_id}/rotate, owned by "core", all `authenticated` (the
// admin API checks its bearer token). Handlers throw ProblemError; the admin API renders it.
void add_partner_admin_routes(pipeline::Router& router, std::shared_ptr<PartnerService> service);

}  // namespace portico::partners
