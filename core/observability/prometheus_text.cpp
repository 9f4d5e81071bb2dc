#include "core/observability/prometheus_text.hpp"

#include <fmt/format.h>

#include <cmath>

namespace portico::observability {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  // HELP text escapes only \ and newline.
  out_.append("# HELP ").append(name).append(" ");
  for (char c : help) {
    if (c == '\\') {
      out_ += "\\\\";
    } else if (c == '\n') {
      out_ += "\\n";
    } else {
      out_.push_back(c);
    }
  }
  out_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::series(std::string_view name, const Labels& labels) {
  out_.append(name);
  if (labels.empty()) return;
  out_.push_back('{');
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out_.push_back(',');
    first = false;
    out_.append(key).append("=\"").append(escape_label_value(value)).append("\"");
  }
  out_.push_back('}');
}

void PrometheusText::sample(std::string_view name, const Labels& labels, std::uint64_t value) {
  series(name, labels);
  out_.append(" ").append(std::to_string(value)).append("\n");
}

void PrometheusText::sample(std::string_view name, const Labels& labels, double value) {
  series(name, labels);
  if (std::isnan(value)) {
    out_.append(" NaN\n");
  } else if (std::isinf(value)) {
    out_.append(value > 0 ? " +Inf\n" : " -Inf\n");
  } else {
    out_.append(" ").append(fmt::format("{}", value)).append("\n");
  }
}

}  // namespace portico::observability
