// Case families as tables. A row is a case's identity (CaseInfo: id, section, level, title,
// quoted requirement, binds, dependencies) and what it does, in one of two common shapes: send
// the valid exchange with one thing changed and expect one answer (RequestRow), or judge the
// 200 answer to a valid exchange (AnswerRow). One loop per shape turns rows into cases, in row
// order; cases with logic of their own stay functions.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "conformance/judge.h"

namespace txlab::conformance {

// Sends the valid exchange request `f` with one thing changed; returns the answer.
using Mutation = std::function<Answer(Probe& p, const http::FormParams& f)>;
// Grades the answer to the changed request.
using Expectation = std::function<Finding(const Probe& p, const Answer& a)>;

struct RequestRow {
  CaseInfo info;
  Mutation send;
  Expectation expect;
};

struct AnswerRow {
  CaseInfo info;
  // Judges the 200 answer `a` (a JSON body) to a valid exchange.
  std::function<Finding(Probe& p, const Answer& a)> judge;
};

// Mutations: the parameter removed, added (again), or its value replaced.
Mutation removes(std::string name);
Mutation adds(std::string name, std::string value);
Mutation replaces(std::string name, std::string value);

// Expectations: the OAuth error `code` with `status` (expect_error), or a refused subject or
// actor token (expect_refused).
Expectation error_answer(int status, std::string code, std::vector<Deviation> deviations = {});
Expectation token_refused();

// The one loop per shape: each row becomes a case, appended in row order.
void add_rows(std::vector<Case>& out, const std::vector<RequestRow>& rows);
void add_rows(std::vector<Case>& out, const std::vector<AnswerRow>& rows);

}  // namespace txlab::conformance
