#include "core/pipeline/router.hpp"

#include <stdexcept>

namespace portico::pipeline {
namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t pos = 1;  // skip the leading '/'
  while (pos <= path.size()) {
    std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

bool is_capture(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::add(Route route, const std::string& owner) {
  if (route.path.empty() || route.path.front() != '/') {
    throw std::invalid_argument(owner + ": route path '" + route.path + "' must start with '/'");
  }
  if (route.method.empty() || (!route.handler && !route.async_handler)) {
    throw std::invalid_argument(owner + ": route " + route.path + " needs a method and a handler");
  }
  if (route.handler && route.async_handler) {
    throw std::invalid_argument(owner + ": route " + route.method + " " + route.path +
                                " sets both handler and async_handler; set one");
  }
  Node* node = &root_;
  for (auto segment : segments(route.path)) {
    if (is_capture(segment)) {
      std::string name(segment.substr(1, segment.size() - 2));
      if (!node->capture) {
        node->capture = std::make_unique<Node>();
        node->capture_name = name;
      } else if (node->capture_name != name) {
        throw std::invalid_argument(owner + ": route " + route.path + " names a capture '{" + name +
                                    "}' where another route has '{" + node->capture_name + "}'");
      }
      node = node->capture.get();
    } else {
      auto& child = node->literals[std::string(segment)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  auto [it, inserted] = node->by_method.try_emplace(route.method, RouteEntry{route, owner, route.method + " " + route.path});
  if (!inserted) {
    throw std::invalid_argument(owner + ": route " + route.method + " " + route.path +
                                " is already provided by " + it->second.owner);
  }
}

namespace {

// A node's segments and methods are a handful: walked in order with the length compared first,
// they are found without the tree's string comparisons; a larger map is searched as a tree.
template <class Map>
auto find_key(const Map& map, std::string_view key) {
  if (map.size() > 8) return map.find(key);
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first == key) return it;  // sizes first, then the bytes
  }
  return map.end();
}

}  // namespace

RouteMatch Router::match(std::string_view method, std::string_view path,
                         std::map<std::string, std::string>& params) const {
  RouteMatch result;
  auto none = [&] {
    params.clear();
    return std::move(result);
  };
  if (path.empty() || path.front() != '/') return none();
  const Node* node = &root_;
  // Walked in place, captures noted on the stack: a match allocates at most the params it sets
  // (a route with more than kInline captures spills to a vector).
  constexpr std::size_t kInline = 8;
  std::pair<const std::string*, std::string_view> inline_captures[kInline];
  std::vector<std::pair<const std::string*, std::string_view>> more_captures;
  std::size_t captures = 0;
  for (std::size_t pos = 1; pos <= path.size();) {  // skip the leading '/'
    std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(pos, end - pos);
    pos = end + 1;
    if (auto it = find_key(node->literals, segment); it != node->literals.end()) {
      node = it->second.get();
    } else if (node->capture && !segment.empty()) {
      if (captures < kInline) {
        inline_captures[captures] = {&node->capture_name, segment};
      } else {
        more_captures.emplace_back(&node->capture_name, segment);
      }
      ++captures;
      node = node->capture.get();
    } else {
      return none();
    }
  }
  if (node->by_method.empty()) return none();
  auto found = find_key(node->by_method, method);
  if (found == node->by_method.end() && method == "HEAD") found = find_key(node->by_method, "GET");
  if (found == node->by_method.end()) {
    for (const auto& [allowed, entry] : node->by_method) result.allowed_methods.push_back(allowed);
    return none();
  }
  result.entry = &found->second;
  auto capture = [&](std::size_t i) -> const std::pair<const std::string*, std::string_view>& {
    return i < kInline ? inline_captures[i] : more_captures[i - kInline];
  };
  // The same names as the map holds (the last request's, on the same route): values in place.
  bool same_names = params.size() == captures;
  for (std::size_t i = 0; same_names && i < captures; ++i) {
    same_names = params.find(*capture(i).first) != params.end();
  }
  if (same_names) {
    for (std::size_t i = 0; i < captures; ++i) params.find(*capture(i).first)->second.assign(capture(i).second);
    return result;
  }
  params.clear();
  for (std::size_t i = 0; i < captures; ++i) params.emplace(*capture(i).first, capture(i).second);
  return result;
}

std::vector<const RouteEntry*> Router::entries() const {
  std::vector<const RouteEntry*> out;
  std::vector<const Node*> stack{&root_};
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    for (const auto& [method, entry] : node->by_method) out.push_back(&entry);
    for (const auto& [segment, child] : node->literals) stack.push_back(child.get());
    if (node->capture) stack.push_back(node->capture.get());
  }
  return out;
}

}  // namespace portico::pipeline
