// The admin token file (see admin_token.h).
#include "world/admin_token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace txlab {

bool write_admin_token_file(const std::string& path, const std::string& token) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return false;
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, token.data(), token.size()) == static_cast<ssize_t>(token.size());
  ::close(fd);
  return ok;
}

}  // namespace txlab
