// Baselines: the grades a user accepts today (txlab conform --write-baseline), and a run
// compared with them (--baseline): the run fails only when a case got worse, and says what got
// better, what is new and what is gone. Pure functions over a Report; the CLI does the files.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "conformance/suite.h"

namespace txlab::conformance {

// The format version a baseline file carries as "txlab_baseline".
inline constexpr int kBaselineFormat = 1;

struct BaselineCase {
  Grade grade = Grade::kOk;
  // UNIMPLEMENTED because this case FAILED (the run's "cause").
  std::string cause;
  // FAILED: the HTTP status its answer came back with (answer_status of its "actual"); "" when
  // it names none. Another status is another failure.
  std::string status;
  // A person's words: why this grade is accepted (for a FAILED, the RFC text behind it).
  std::string reason;
};

struct Baseline {
  std::string file;
  std::string txlab_version, target, profile, only, description;
  bool from_report = false;  // read from an earlier `--json` report rather than a baseline
  std::map<std::string, BaselineCase> cases;
};

// The HTTP status a finding's `actual` text reports: its first number from 100 to 599 standing
// alone (not part of a word such as RS256), or "".
std::string answer_status(const std::string& actual);

// FILE's TEXT as a baseline: a --write-baseline file, or a --json report of a graded run.
// nullopt with *error ("FILE:LINE:COL: error: ..." for JSON syntax, "FILE: error: ..." else).
std::optional<Baseline> parse_baseline(const std::string& text, const std::string& file,
                                       std::string* error);

// A baseline of another profile grades other things (keycloak's deviations are NON-STRICT,
// common's FAILED): the refusal, or nullopt when PROFILE matches.
std::optional<std::string> baseline_refusal(const Baseline& baseline, Profile profile);

// The run as a baseline. PREVIOUS (the file being rewritten, may be null) gives its description
// and the reasons of cases still graded as there; a reason of a case whose grade changed is
// dropped (it explained the old grade): their ids in *dropped.
Baseline baseline_of(const Report& report, const std::string& only,
                     const std::string& txlab_version, const Baseline* previous,
                     std::vector<std::string>* dropped = nullptr);
// The file's text: JSON, one line per case (reviewable diffs).
std::string render_baseline(const Baseline& baseline);

// One case's difference from the baseline.
struct BaselineChange {
  std::string id;
  std::optional<Grade> was, now;      // none: not in the baseline / not in the run
  std::string why;                    // what changed, in words
  std::string reason;                 // the baseline's reason for this case
  std::vector<std::string> affected;  // worse: cases not graded now because of this one
};

// The run against a baseline. worse: what fails the run; better: graded higher or no longer
// held back by a cause; changed: lower but not counted (OK -> NON-STRICT without --strict,
// INFORMATIONAL -> UNIMPLEMENTED, a dependent case held back by another accepted cause);
// added/gone: cases only in the run / only in the baseline; accepted: cases the run fails
// (FAILED, NON-STRICT under --strict) that the baseline accepts as they are.
struct BaselineComparison {
  std::string file;
  size_t baseline_cases = 0;
  std::vector<BaselineChange> worse, better, changed, added, gone, accepted;
  bool got_worse() const { return !worse.empty(); }
};

// The comparison; only the baseline's cases selected by ONLY (a case id prefix) count. A case
// is worse when:
//   - it FAILED (or, with --strict, is NON-STRICT) and the baseline does not grade it so,
//     including a case the baseline lacks;
//   - it FAILED in both but with another HTTP status (another failure than the one accepted);
//   - it was graded OK or NON-STRICT and is now INFORMATIONAL or UNIMPLEMENTED (a behaviour or
//     the coverage lost), or OK -> NON-STRICT with --strict;
//   - it is held back by a cause (UNIMPLEMENTED with a cause) that is itself worse: then it is
//     listed under that cause as affected, not on its own (one cause, one FAILED).
BaselineComparison compare_with_baseline(const Baseline& baseline, const Report& report,
                                         const std::string& only);

// The short report section (text), its JSON ("baseline" in the --json report) and the JUnit
// report with the baseline applied: a worse case fails; an accepted one does not and carries
// the baseline's reason (a property and system-out).
std::string render_baseline_text(const BaselineComparison& comparison);
nlohmann::json render_baseline_json(const BaselineComparison& comparison);
std::string render_junit(const Report& report, const BaselineComparison& comparison);

}  // namespace txlab::conformance
