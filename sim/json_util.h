// Small helpers for reading untrusted JSON without exceptions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace txlab {

// The string member `key` of `j`, or "" when `j` is not an object or the member is absent or
// not a string.
inline std::string json_str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline std::optional<int64_t> json_int(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->is_number_integer() ? it->get<int64_t>() : static_cast<int64_t>(it->get<double>());
}

// Follows a dotted path ("act.act.sub"); nullptr when any step is missing.
inline const nlohmann::json* json_path(const nlohmann::json& j, const std::string& path) {
  const nlohmann::json* cur = &j;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t dot = path.find('.', pos);
    const std::string key =
        path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return cur;
}

}  // namespace txlab

namespace txlab {

// Serializes without throwing on invalid UTF-8 in strings that came from the network
// (they are replaced with U+FFFD).
inline std::string safe_dump(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace txlab
