// Reading PEM text (certificates, keys) from a file: the whole file, checked to hold at least one
// "-----BEGIN " block, so a wrong path or a DER file is reported before a TLS handshake fails.
#pragma once

#include <optional>
#include <string>

namespace txlab {

// The file's text; nullopt with *error = "cannot read PATH" or "PATH is not PEM".
std::optional<std::string> read_pem_file(const std::string& path, std::string* error);

}  // namespace txlab
