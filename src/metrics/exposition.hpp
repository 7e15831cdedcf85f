// Prometheus' text exposition format (version 0.0.4), the pieces: valid
// names, escaped label values and help text, sample values. Pure.
#pragma once

#include <string>
#include <string_view>

#include "metrics/registry.hpp"

namespace relayscope::metrics {

inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

bool valid_metric_name(std::string_view name);  // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_label_name(std::string_view name);   // [a-zA-Z_][a-zA-Z0-9_]*, not __*

// Label values: \ " and newline escaped. Help text: \ and newline escaped.
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);

// An integer as an integer, NaN as NaN, infinities as +Inf/-Inf, any other
// double in its shortest exact form.
std::string format_value(double v);

// `name{a="x",b="y"}` (just `name` without labels).
std::string series_name(const std::string& name, const Labels& labels);

// "# HELP name help\n# TYPE name counter\n".
std::string family_header(const std::string& name, const std::string& help, Type type);

}  // namespace relayscope::metrics
