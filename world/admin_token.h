// The bearer token of `txlab serve --admin`, written to a file only its owner can read.
#pragma once

#include <string>

namespace txlab {

// Creates or truncates PATH with mode 0600 and writes TOKEN; false when any step fails.
bool write_admin_token_file(const std::string& path, const std::string& token);

}  // namespace txlab
