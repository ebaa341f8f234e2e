// The access log line of `txlab serve --log` (see access_log.h).
#include "world/access_log.h"

#include <cstdio>
#include <ctime>

namespace txlab {

std::string access_log_line(std::chrono::system_clock::time_point when, const std::string& role,
                            const http::AccessRecord& r) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch());
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[96];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  std::string target(r.target);
  for (char& c : target)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  char tail[64];
  std::snprintf(tail, sizeof tail, " %d %zuB %.1fms", r.status, r.bytes,
                static_cast<double>(r.us) / 1000.0);
  return std::string(stamp) + " " + role + " " + std::string(r.method) + " " + target + tail;
}

}  // namespace txlab
