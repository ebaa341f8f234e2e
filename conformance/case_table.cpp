// The check shapes of table rows, the common mutations and graders, and the loop that appends
// a family's rows.
#include "conformance/case_table.h"

namespace txlab::conformance {

CaseCheck sends(RequestMutation send, AnswerGrader grade) {
  return [send = std::move(send), grade = std::move(grade)](Probe& p) {
    return with_valid_exchange(p, [&](const http::FormParams& f) { return grade(p, send(p, f)); });
  };
}

CaseCheck judges(AnswerJudge judge) {
  return [judge = std::move(judge)](Probe& p) {
    return with_successful_exchange(
        p, [&](const Answer& a, const http::FormParams&) { return judge(p, a); });
  };
}

RequestMutation removes(std::string name) {
  return [name](Probe& p, const http::FormParams& f) { return p.post(without(f, name)); };
}

RequestMutation adds(std::string name, std::string value) {
  return
      [name, value](Probe& p, const http::FormParams& f) { return p.post(with(f, name, value)); };
}

RequestMutation replaces(std::string name, std::string value) {
  return [name, value](Probe& p, const http::FormParams& f) {
    return p.post(replaced(f, name, value));
  };
}

AnswerGrader error_answer(int status, std::string code, std::vector<Deviation> deviations) {
  return [status, code, deviations](const Probe& p, const Answer& a) {
    return expect_error(p, a, status, code, deviations);
  };
}

AnswerGrader token_refused() {
  return [](const Probe& p, const Answer& a) { return expect_refused(p, a); };
}

void add_rows(std::vector<Case>& out, std::vector<Case> rows) {
  for (auto& row : rows) out.push_back(std::move(row));
}

}  // namespace txlab::conformance
