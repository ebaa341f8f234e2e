// `--html FILE`: one self-contained page per command (no network: a Content-Security-Policy
// forbids every fetch; CSS, script and pictures are inline). Each body is drawn from the
// command's JSON report — the same contract `--json` writes — so the page shows nothing the JSON
// does not carry.
//
// The page's script marks the document when it has run (<html data-txlab-ready="1">) and counts
// script errors (data-txlab-errors), which is what the browser test reads back.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace txlab::html {

// Text and attribute escaping (&, <, >, ", '; control characters become spaces).
std::string escape(std::string_view s);

// The page around a body: `kind` names it for tests (run, timeline, conform, attack, load).
std::string page(std::string_view kind, std::string_view title, std::string_view subtitle,
                 const std::string& body);

// A sequence diagram of one call's hops (`call` as in the run JSON's `calls`), lanes in the
// order of `roles` grouped by zone, drawn as SVG.
std::string sequence_svg(const nlohmann::json& roles, const nlohmann::json& call);
// The call's tokens decoded, each compared with the previous hop's token: what changed in
// aud, act, iss, scope, cnf (and any other claim) is highlighted.
std::string token_cards(const nlohmann::json& call);

// Bodies, from each command's JSON report.
std::string run_body(const nlohmann::json& run);
std::string timeline_body(const nlohmann::json& timeline, const nlohmann::json& sample_run);
std::string conform_body(const nlohmann::json& report);
std::string attack_body(const nlohmann::json& attack);
std::string load_body(const nlohmann::json& load, const std::string& histogram_svg);

}  // namespace txlab::html
