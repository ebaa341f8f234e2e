// OAuth error bodies and WWW-Authenticate challenges, read without regular expressions.
#include "sim/http/oauth_error.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "sim/http/message.h"

namespace txlab::http {

namespace {

// RFC 7230 §3.2.6 tchar.
bool tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  void spaces() {
    while (!done() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  std::string token() {
    const size_t start = i;
    while (!done() && tchar(s[i])) ++i;
    return std::string(s.substr(start, i - start));
  }
  // A quoted-string with its backslash escapes undone (RFC 7230 §3.2.6).
  std::string quoted() {
    std::string out;
    ++i;  // the opening quote
    while (!done() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      out += s[i++];
    }
    if (!done()) ++i;  // the closing quote
    return out;
  }
};

}  // namespace

std::string Challenge::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (iequals(k, name)) return v;
  return {};
}

std::vector<Challenge> parse_www_authenticate(std::string_view header) {
  std::vector<Challenge> out;
  Cursor c{header.substr(0, 8192)};
  while (!c.done()) {
    c.spaces();
    while (!c.done() && c.s[c.i] == ',') {
      ++c.i;
      c.spaces();
    }
    std::string scheme = c.token();
    if (scheme.empty()) break;
    Challenge ch{scheme, {}};
    c.spaces();
    // auth-params: name = (token | quoted-string), separated by commas; a token68 is skipped.
    while (!c.done()) {
      const size_t mark = c.i;
      std::string name = c.token();
      c.spaces();
      if (name.empty() || c.done() || c.s[c.i] != '=') {
        c.i = mark;
        // token68 or the next challenge's scheme: skip to the next comma, then decide.
        if (!name.empty()) {
          // A bare token followed by a space and another token starts the next challenge.
          break;
        }
        while (!c.done() && c.s[c.i] != ',') ++c.i;
        break;
      }
      ++c.i;  // '='
      c.spaces();
      if (!c.done() && c.s[c.i] == '=') {  // token68 padding ("abc==")
        while (!c.done() && c.s[c.i] != ',') ++c.i;
        break;
      }
      std::string value = !c.done() && c.s[c.i] == '"' ? c.quoted() : c.token();
      ch.params.emplace_back(std::move(name), std::move(value));
      c.spaces();
      if (c.done()) break;
      if (c.s[c.i] != ',') break;
      ++c.i;
      c.spaces();
      // After a comma: another param of this challenge (name=), or a new challenge (scheme).
      const size_t look = c.i;
      std::string next = c.token();
      c.spaces();
      const bool is_param = !next.empty() && !c.done() && c.s[c.i] == '=';
      c.i = look;
      if (!is_param) break;
    }
    out.push_back(std::move(ch));
    if (out.size() >= 16) break;
  }
  return out;
}

OAuthError parse_oauth_error(int status, std::string_view body, std::string_view www_authenticate) {
  OAuthError e;
  e.status = status;
  if (body.size() <= 64 * 1024) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    auto str = [&](const char* k) {
      return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>()
                                                                : std::string();
    };
    e.error = str("error");
    e.description = str("error_description");
    e.uri = str("error_uri");
  }
  const auto challenges = parse_www_authenticate(www_authenticate);
  if (!challenges.empty()) {
    e.scheme = challenges.front().scheme;
    if (e.error.empty()) {
      e.error = challenges.front().param("error");
      e.description = challenges.front().param("error_description");
      e.uri = challenges.front().param("error_uri");
    }
  }
  return e;
}

}  // namespace txlab::http
