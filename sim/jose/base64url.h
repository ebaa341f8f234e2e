// base64url without padding (RFC 4648 §5, as used by RFC 7515 §2).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace txlab::jose {

std::string base64url_encode(std::string_view bytes);
// Strict: rejects padding, characters outside the URL-safe alphabet, and non-canonical
// trailing bits. Returns nullopt on any of those.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace txlab::jose
