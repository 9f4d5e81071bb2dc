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

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch result;
  if (path.empty() || path.front() != '/') return result;
  const Node* node = &root_;
  // Walked in place, captures noted on the stack: a match allocates only the params it returns
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
    if (auto it = node->literals.find(segment); it != node->literals.end()) {
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
      return result;
    }
  }
  if (node->by_method.empty()) return result;
  auto found = node->by_method.find(method);
  if (found == node->by_method.end() && method == "HEAD") found = node->by_method.find("GET");
  if (found == node->by_method.end()) {
    for (const auto& [allowed, entry] : node->by_method) result.allowed_methods.push_back(allowed);
    return result;
  }
  result.entry = &found->second;
  for (std::size_t i = 0; i < captures; ++i) {
    const auto& [name, value] = i < kInline ? inline_captures[i] : more_captures[i - kInline];
    result.params.emplace(*name, std::string(value));
  }
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
