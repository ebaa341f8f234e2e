// Fuzz target: what the token endpoint and the edges parse from a request before any
// cryptography: form bodies (RFC 6749 Appendix B), Basic and Bearer Authorization (RFC 6749
// §2.3.1, RFC 6750 §2.1), WWW-Authenticate and OAuth error bodies (RFC 6750 §3, RFC 6749 §5.2),
// Cache-Control max-age of a JWKS response.
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/http/form.h"
#include "sim/http/oauth_error.h"
#include "sim/jwks_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto form = txlab::http::parse_form(in)) {
    // What parses must encode and parse back to the same pairs.
    const auto again = txlab::http::parse_form(txlab::http::encode_form(*form));
    if (!again || *again != *form) __builtin_trap();
  }
  (void)txlab::http::url_decode(in, true);
  (void)txlab::http::url_decode(in, false);
  (void)txlab::http::is_valid_utf8(in);
  (void)txlab::http::base64_decode(in);
  (void)txlab::http::parse_basic_authorization(in);
  (void)txlab::http::parse_bearer_authorization(in);
  (void)txlab::http::parse_www_authenticate(in);
  (void)txlab::http::parse_oauth_error(400, in, in);
  (void)txlab::cache_control_max_age(std::string(in));
  return 0;
}
