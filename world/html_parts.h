// The drawing parts the HTML pages share (world/html.cpp): JSON field readers that never throw,
// badges, filter bars and line charts. Internal to world/html*.cpp; callers use world/html.h.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace txlab::html::detail {

using Json = nlohmann::json;

// A field of an object as text / integer / number / array; "", 0 or [] when absent or mistyped.
std::string str(const Json& j, const char* key);
int64_t num(const Json& j, const char* key);
double real(const Json& j, const char* key);
const Json& array(const Json& j, const char* key);
// A duration in µs, ms or s, whichever reads best.
std::string micros(int64_t us);
// A string as is, anything else as compact JSON.
std::string compact(const Json& v);
// A badge for a verdict or grade; the class is the lower-case word without spaces.
std::string badge(const std::string& text);
// A filter bar over the table with id `table`: a select per listed column (options are the
// distinct values present) and a text box. The script keeps "shown N of M" up to date.
std::string filter_bar(const std::string& table, const std::vector<std::string>& columns,
                       const std::map<std::string, std::set<std::string>>& values);

// A small line chart: series of (x, y) points, linear axes from 0, with a legend.
struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> points;
};
std::string line_chart(const std::string& title, const std::string& x_unit,
                       const std::string& y_unit, const std::vector<Series>& series,
                       bool dots = false);

}  // namespace txlab::html::detail
