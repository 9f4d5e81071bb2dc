#include "core/pipeline/router.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/util/put_text.hpp"
#include "portico/sdk/text_key.hpp"

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

// A node's names (segments, methods) are kept sorted: where `name` is or would go.
template <class Names>
auto lower_bound_of(Names& names, std::string_view name) {
  return std::lower_bound(names.begin(), names.end(), name,
                          [](const auto& named, std::string_view n) { return named.first < n; });
}

// The value under `name`, a null one put in its sorted place when there is none.
template <class Names>
auto& slot(Names& names, std::string_view name) {
  auto it = lower_bound_of(names, name);
  if (it == names.end() || it->first != name) it = names.emplace(it, std::string(name), nullptr);
  return it->second;
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
  if (const auto* parts = route.async_handler.target<NowOrLater>();
      parts && (!parts->now || !parts->later)) {
    throw std::invalid_argument(owner + ": route " + route.method + " " + route.path +
                                " has a NowOrLater handler without its " +
                                (parts->now ? "later" : "now") + " part");
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
      auto& child = slot(node->literals, segment);
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  auto& entry = slot(node->by_method, route.method);
  if (entry) {
    throw std::invalid_argument(owner + ": route " + route.method + " " + route.path +
                                " is already provided by " + entry->owner);
  }
  std::string label = route.method + " " + route.path;
  entry = std::make_unique<RouteEntry>(RouteEntry{std::move(route), owner, std::move(label)});
  entry->now_or_later = entry->route.async_handler.target<NowOrLater>();
}

namespace {

constexpr std::size_t kScan = 8;

// The value under `name`, or null.
template <class Names>
auto find_name(const Names& names, std::string_view name) {
  using Value = typename Names::value_type::second_type::element_type;
  if (names.size() > kScan) {
    auto it = lower_bound_of(names, name);
    return it != names.end() && it->first == name ? static_cast<const Value*>(it->second.get())
                                                  : nullptr;
  }
  for (const auto& [named, value] : names) {
    if (sdk::same_text(named, name)) {
      return static_cast<const Value*>(value.get());
    }
  }
  return static_cast<const Value*>(nullptr);
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
    if (const Node* child = find_name(node->literals, segment)) {
      node = child;
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
  const RouteEntry* found = find_name(node->by_method, method);
  if (!found && method == "HEAD") found = find_name(node->by_method, "GET");
  if (!found) {
    for (const auto& [allowed, entry] : node->by_method) result.allowed_methods.push_back(allowed);
    return none();
  }
  result.entry = found;
  auto capture = [&](std::size_t i) -> const std::pair<const std::string*, std::string_view>& {
    return i < kInline ? inline_captures[i] : more_captures[i - kInline];
  };
  // The same names as the map holds (the last request's, on the same route): values in place.
  // The map is walked in its order, each name looked for among the captures (a route has one or
  // two): no tree search.
  if (params.size() == captures) {
    std::size_t matched = 0;
    for (const auto& [name, value] : params) {
      std::size_t i = 0;
      while (i < captures && !sdk::same_text(*capture(i).first, name)) ++i;
      if (i == captures) break;
      ++matched;
    }
    if (matched == captures) {
      for (auto& [name, value] : params) {
        std::size_t i = 0;
        while (!sdk::same_text(*capture(i).first, name)) ++i;
        util::assign_text(value, capture(i).second);
      }
      return result;
    }
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
    for (const auto& [method, entry] : node->by_method) out.push_back(entry.get());
    for (const auto& [segment, child] : node->literals) stack.push_back(child.get());
    if (node->capture) stack.push_back(node->capture.get());
  }
  return out;
}

}  // namespace portico::pipeline
