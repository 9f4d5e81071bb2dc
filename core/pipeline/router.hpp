// Route table: literal segments and whole-segment `{name}` captures, matched segment by segment.
// Answers the route, or the methods the path does allow (405), or nothing (404).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "portico/plugin.hpp"

namespace portico::pipeline {

struct RouteEntry {
  Route route;
  std::string owner;  // plugin name, or "core"
  std::string label;  // "GET /v1/products/{id}": how usage counts it, made once
  // The route's async_handler when it is a NowOrLater (API 3.2), found once when the route is
  // added: the handler stage calls its parts itself. Points into `route`.
  const NowOrLater* now_or_later = nullptr;
};

struct RouteMatch {
  const RouteEntry* entry = nullptr;         // set when method and path match
  std::vector<std::string> allowed_methods;  // when only the path matched
};

class Router {
 public:
  // Throws std::invalid_argument when a route is malformed or the same method+path is added twice
  // (the message names both owners).
  void add(Route route, const std::string& owner);
  // Sets `params` to the captures when the route matches — in the map's own nodes when it holds
  // the same names already (a connection's next request on the same route allocates nothing) —
  // and clears it otherwise.
  RouteMatch match(std::string_view method, std::string_view path,
                   std::map<std::string, std::string>& params) const;
  std::vector<const RouteEntry*> entries() const;

 private:
  // A node's segments and methods are a handful: vectors sorted by name, walked with the length
  // compared first (searched by halves when longer than kScan), without a tree's node hops.
  // Entries are held by pointer, so what match() hands out stays put while routes are added.
  template <class Value>
  using Names = std::vector<std::pair<std::string, std::unique_ptr<Value>>>;
  struct Node {
    Names<Node> literals;
    std::unique_ptr<Node> capture;
    std::string capture_name;
    Names<RouteEntry> by_method;
  };
  Node root_;
};

}  // namespace portico::pipeline
