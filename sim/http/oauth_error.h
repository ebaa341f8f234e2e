// The one client-side reader of OAuth errors: RFC 6749 §5.2 JSON error bodies and RFC 6750 §3
// / RFC 7235 §4.1 WWW-Authenticate challenges. The token client, the gateway, the workload
// runner, the attack catalogue and the isolation matrix all read errors through it; nothing else
// parses WWW-Authenticate. Bounded: oversized or malformed input yields what could be read.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace txlab::http {

// One challenge: auth-scheme and its auth-params (quoted-string values unescaped).
struct Challenge {
  std::string scheme;
  std::vector<std::pair<std::string, std::string>> params;
  std::string param(std::string_view name) const;  // "" when absent (names are case-insensitive)
};

// Every challenge of a WWW-Authenticate value, in order. A header over 8 KiB is read no further.
std::vector<Challenge> parse_www_authenticate(std::string_view header);

struct OAuthError {
  int status = 0;
  std::string error;        // the OAuth error code, "" when the answer carries none
  std::string description;  // error_description
  std::string uri;          // error_uri
  std::string scheme;  // the challenge's scheme ("Bearer", "Basic", "DPoP"), when there was one
  bool present() const { return !error.empty(); }
};

// The error an answer carries: the JSON body's members when it has them (RFC 6749 §5.2),
// else the first challenge's error/error_description/error_uri (RFC 6750 §3).
OAuthError parse_oauth_error(int status, std::string_view body, std::string_view www_authenticate);

}  // namespace txlab::http
