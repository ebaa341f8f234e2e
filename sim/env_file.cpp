// --env-file: NAME=VALUE lines to a map, every malformed line an error with its position (see
// env_file.h).
#include "sim/env_file.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace txlab {

namespace {

constexpr size_t kMaxLines = 10000;  // an env file is small; a huge one is a mistake

bool name_char(char c, bool first) {
  const auto u = static_cast<unsigned char>(c);
  return c == '_' || std::isalpha(u) || (!first && std::isdigit(u));
}

size_t skip_blanks(const std::string& s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}

}  // namespace

EnvFile parse_env_file(const std::string& text, const std::string& file_label) {
  EnvFile out;
  auto fail = [&](int line, size_t column, std::string msg) {
    out.values.clear();
    out.error = Diagnostic{file_label, {line, static_cast<int>(column) + 1}, std::move(msg)};
    return out;
  };
  std::istringstream in(text);
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    if (++line_no > static_cast<int>(kMaxLines))
      return fail(line_no, 0, "more than " + std::to_string(kMaxLines) + " lines");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t i = skip_blanks(line, 0);
    if (i == line.size() || line[i] == '#') continue;
    if (line.compare(i, 7, "export ") == 0) i = skip_blanks(line, i + 7);
    const size_t name_start = i;
    while (i < line.size() && name_char(line[i], i == name_start)) ++i;
    if (i == name_start)
      return fail(line_no, name_start, "expected NAME=VALUE (NAME: letters, digits and _)");
    const std::string name = line.substr(name_start, i - name_start);
    i = skip_blanks(line, i);
    if (i == line.size() || line[i] != '=')
      return fail(line_no, i, "expected '=' after '" + name.substr(0, 64) + "'");
    size_t v = skip_blanks(line, i + 1);
    size_t end = line.size();
    while (end > v && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
    std::string value = line.substr(v, end - v);
    if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
      const char q = value.front();
      if (value.size() < 2 || value.back() != q)
        return fail(line_no, v,
                    std::string("unterminated ") + (q == '"' ? "double" : "single") +
                        " quote in the value of '" + name.substr(0, 64) + "'");
      value = value.substr(1, value.size() - 2);
      if (value.find(q) != std::string::npos)
        return fail(line_no, v, "a quote inside the quoted value of '" + name.substr(0, 64) + "'");
    }
    out.values[name] = value;
  }
  return out;
}

EnvFile read_env_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    EnvFile out;
    out.error = Diagnostic{path, {}, "cannot read env file"};
    return out;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_env_file(buf.str(), path);
}

EnvLookup env_with_file(std::map<std::string, std::string> file_values, EnvLookup process) {
  return [file = std::move(file_values),
          process = std::move(process)](const std::string& name) -> std::optional<std::string> {
    if (process)
      if (auto v = process(name)) return v;
    const auto it = file.find(name);
    if (it == file.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace txlab
