// A body as partners get it, and the answers for it: JSON with its strong ETag, and the 200 made
// once — when the body is rendered — and shared by every request that gets it (plugin API 3.0), so
// serving a cached product or list page copies nothing. A revalidation whose If-None-Match holds
// the ETag gets a 304 with the ETag and no body (the core then refunds the rate limit).
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "portico/http_types.hpp"
#include "portico/sdk/etag.hpp"
#include "portico/sdk/sodium.hpp"

namespace portico::routes_products {

class Representation {
 public:
  Representation() = default;  // nothing rendered: answer() is a 500
  explicit Representation(std::string body) : etag_(sdk::strong_etag(body)) {
    auto ok = std::make_shared<Response>();
    ok->status = 200;
    set_validators(*ok, etag_);
    ok->body = std::move(body);
    ok_ = std::move(ok);
  }

  const std::string& body() const {
    static const std::string none;
    return ok_ ? ok_->body : none;
  }
  const std::string& etag() const { return etag_; }

  // 200 with the body, or 304 when the caller already holds this representation.
  Answer answer(const Request& request) const {
    auto if_none_match = request.header("If-None-Match");
    if (if_none_match && sdk::if_none_match_hits(*if_none_match, etag_)) {
      Response not_modified;
      not_modified.status = 304;
      set_validators(not_modified, etag_);
      return not_modified;
    }
    return ok_;  // throws for a representation never rendered
  }
  // The same, the 200 sharing `owner`'s ownership — the object this representation is part of —
  // instead of its own: handing it out then writes no reference count but the owner's, which the
  // caller already holds (one count moved, none added, for a cache's hit).
  template <class Owner>
  Answer answer(const Request& request, std::shared_ptr<Owner>&& owner) const {
    auto if_none_match = request.header("If-None-Match");
    if ((if_none_match && sdk::if_none_match_hits(*if_none_match, etag_)) || !ok_) {
      return answer(request);
    }
    return SharedResponse(std::move(owner), ok_.get());
  }

 private:
  static void set_validators(Response& response, const std::string& etag) {
    response.headers.reserve(2);
    response.set_header("ETag", etag);
    // Real-time stock: caches may keep the body but must revalidate it on every use.
    response.set_header("Cache-Control", "private, no-cache");
  }

  std::string etag_;
  SharedResponse ok_;
};

}  // namespace portico::routes_products
