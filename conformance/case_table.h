// Case families as tables. A row is a Case: its identity (CaseInfo: id, section, level, title,
// quoted requirement, binds, dependencies) and its check. Most checks have one of two shapes,
// built here: send the valid exchange with one thing changed and grade the answer (sends), or
// judge the 200 answer to a valid exchange (judges); cases with logic of their own name a
// function. One loop (add_rows) appends a family's rows in table order.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "conformance/judge.h"

namespace txlab::conformance {

using CaseCheck = std::function<Finding(Probe& p)>;
// Sends the valid exchange request `f` with one thing changed; returns the answer.
using RequestMutation = std::function<Answer(Probe& p, const http::FormParams& f)>;
// Grades the answer to the changed request.
using AnswerGrader = std::function<Finding(const Probe& p, const Answer& a)>;
// Judges the 200 answer `a` (a JSON body) to a valid exchange.
using AnswerJudge = std::function<Finding(Probe& p, const Answer& a)>;

// The valid exchange changed by `send`, its answer graded by `grade` (with_valid_exchange).
CaseCheck sends(RequestMutation send, AnswerGrader grade);
// The answer to the valid exchange, which must succeed, judged (with_successful_exchange).
CaseCheck judges(AnswerJudge judge);

// Mutations: the parameter removed, added (again), or its value replaced.
RequestMutation removes(std::string name);
RequestMutation adds(std::string name, std::string value);
RequestMutation replaces(std::string name, std::string value);

// Graders: the OAuth error `code` with `status` (expect_error), or a refused subject or actor
// token (expect_refused).
AnswerGrader error_answer(int status, std::string code, std::vector<Deviation> deviations = {});
AnswerGrader token_refused();

// The one loop: appends the rows, in table order.
void add_rows(std::vector<Case>& out, std::vector<Case> rows);

}  // namespace txlab::conformance
