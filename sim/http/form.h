// application/x-www-form-urlencoded (RFC 6749 appendix B) and HTTP Basic client credentials
// (RFC 7617, with the form-urlencoding of RFC 6749 §2.3.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace txlab::http {

// Ordered name/value pairs; repeated names are kept (RFC 8693 allows repeated audience/resource).
using FormParams = std::vector<std::pair<std::string, std::string>>;

// Percent-decoding; '+' becomes a space when `plus_is_space`. nullopt on a bad escape.
std::optional<std::string> url_decode(std::string_view in, bool plus_is_space);
// Form-urlencoding per RFC 6749 appendix B (space as '+', unreserved characters kept).
std::string form_urlencode(std::string_view in);

// nullopt when any name or value has a malformed escape.
std::optional<FormParams> parse_form(std::string_view body);
std::string encode_form(const FormParams& params);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Values of `name`, in order.
std::vector<std::string> form_values(const FormParams& params, std::string_view name);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

struct BasicCredentials {
  std::string client_id;
  std::string client_secret;
};
// Parses an `Authorization: Basic ...` value. Both parts are form-urldecoded after base64
// decoding (RFC 6749 §2.3.1), so "%2D" is "-". nullopt on any malformation.
std::optional<BasicCredentials> parse_basic_authorization(std::string_view header_value);
// Builds the header value, form-urlencoding both parts first (RFC 6749 §2.3.1).
std::string basic_authorization(std::string_view client_id, std::string_view client_secret);

// The token of an `Authorization: Bearer ...` value (RFC 6750 §2.1); nullopt otherwise.
std::optional<std::string> parse_bearer_authorization(std::string_view header_value);

}  // namespace txlab::http
