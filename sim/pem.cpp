// Reading PEM text from a file (see pem.h).
#include "sim/pem.h"

#include <fstream>
#include <iterator>

namespace txlab {

std::optional<std::string> read_pem_file(const std::string& path, std::string* error) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && text.empty()) {
    if (error) *error = "cannot read " + path;
    return std::nullopt;
  }
  if (text.find("-----BEGIN ") == std::string::npos) {
    if (error) *error = path + " is not PEM";
    return std::nullopt;
  }
  return text;
}

}  // namespace txlab
