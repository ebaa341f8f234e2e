// The loops that turn table rows into cases, and the common mutations and expectations.
#include "conformance/case_table.h"

namespace txlab::conformance {

Mutation removes(std::string name) {
  return [name](Probe& p, const http::FormParams& f) { return p.post(without(f, name)); };
}

Mutation adds(std::string name, std::string value) {
  return
      [name, value](Probe& p, const http::FormParams& f) { return p.post(with(f, name, value)); };
}

Mutation replaces(std::string name, std::string value) {
  return [name, value](Probe& p, const http::FormParams& f) {
    return p.post(replaced(f, name, value));
  };
}

Expectation error_answer(int status, std::string code, std::vector<Deviation> deviations) {
  return [status, code, deviations](const Probe& p, const Answer& a) {
    return expect_error(p, a, status, code, deviations);
  };
}

Expectation token_refused() {
  return [](const Probe& p, const Answer& a) { return expect_refused(p, a); };
}

void add_rows(std::vector<Case>& out, const std::vector<RequestRow>& rows) {
  for (const auto& row : rows)
    out.push_back({row.info, [send = row.send, expect = row.expect](Probe& p) {
                     return with_valid_exchange(
                         p, [&](const http::FormParams& f) { return expect(p, send(p, f)); });
                   }});
}

void add_rows(std::vector<Case>& out, const std::vector<AnswerRow>& rows) {
  for (const auto& row : rows)
    out.push_back({row.info, [judge = row.judge](Probe& p) {
                     return with_successful_exchange(
                         p, [&](const Answer& a, const http::FormParams&) { return judge(p, a); });
                   }});
}

}  // namespace txlab::conformance
