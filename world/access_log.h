// The access log of `txlab serve --log`: one line of text per answered request, with the time,
// the role, the request line, status, body bytes and milliseconds.
#pragma once

#include <chrono>
#include <string>

#include "sim/http/server.h"

namespace txlab {

// "2026-01-02T03:04:05.678Z ROLE METHOD TARGET STATUS BYTESB MS.Xms" (no newline); control
// characters of the target are replaced by '?', so a line stays one line whatever a path held.
std::string access_log_line(std::chrono::system_clock::time_point when, const std::string& role,
                            const http::AccessRecord& r);

}  // namespace txlab
