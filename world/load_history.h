// `txlab load --history DIR`: each run's summary appended as one JSON line to
// DIR/history.jsonl (the newest kMaxHistory runs are kept: past that, the oldest lines are
// dropped when the file is rewritten), and DIR/index.html, a self-contained trend page: per
// workload path p50, p99 and throughput over the runs, and a table of the runs whose verdict
// is the --baseline test (world/load_compare.h) of each run against the one before it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace txlab {

inline constexpr size_t kMaxHistory = 500;

// The line kept for a run: label, time, scenario, mode, rate, seed and per path the
// percentiles, throughput and windows (what a later comparison needs), from `load --json`.
nlohmann::json history_entry(const nlohmann::json& report, const std::string& label,
                             const std::string& time_utc);

// The runs of DIR/history.jsonl, oldest first (`path` may also name the file itself); none when
// it does not exist yet; an error ("FILE:LINE: ...") for a line that is not a history entry.
std::vector<nlohmann::json> read_history(const std::string& path, std::string* error);

// A baseline from a history: the newest `last` entries of `runs` (oldest first; only those
// before index `end`) with the same
// scenario, mode and rate as `setup` (a load --json report), as one report whose windows are
// tagged with their run (an entry of a --runs N invocation brings its N runs). An error when no
// entry matches. See world/load_compare.h.
nlohmann::json history_baseline(const std::vector<nlohmann::json>& runs,
                                const nlohmann::json& setup, size_t last, std::string* error,
                                size_t end = SIZE_MAX);

// Reads DIR/history.jsonl (missing: none yet), appends `entry`, keeps the newest kMaxHistory
// and writes the file back (via a temporary file and a rename). The runs, oldest first, or the
// error ("FILE:LINE: ...") in `error`.
std::vector<nlohmann::json> append_history(const std::string& dir, const nlohmann::json& entry,
                                           std::string* error, size_t max_runs = kMaxHistory);

// The trend page of these runs (oldest first): each run compared with the newest
// kHistoryBaseline runs before it of the same scenario, mode and rate.
inline constexpr size_t kHistoryBaseline = 5;
std::string history_page(const std::vector<nlohmann::json>& runs, double max_regression_pct,
                         uint64_t seed, double max_tail_regression_pct = 50);

}  // namespace txlab
