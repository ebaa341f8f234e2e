// The one JUnit XML writer: every command (run, load, attack, conform) builds a JunitReport and
// renders it here. Values are plain text; the writer escapes them (sim/xml.h).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace txlab {

struct JunitFailure {
  std::string message;
  std::optional<std::string> text;  // none: a self-closing <failure message="..."/>
};

struct JunitCase {
  JunitCase(std::string classname_, std::string name_, std::optional<double> time = std::nullopt)
      : classname(std::move(classname_)), name(std::move(name_)), time_s(time) {}

  std::string classname;
  std::string name;
  std::optional<double> time_s;
  std::vector<std::pair<std::string, std::string>> properties;  // name, value
  std::optional<std::string> system_out;
  std::optional<JunitFailure> failure;
  std::optional<std::string> skipped;  // the <skipped> element's message
};

// How a suite writes its test cases.
enum class JunitLayout {
  kLines,    // each child element on its own line, </testcase> on its own line
  kOneLine,  // <testcase ...>children</testcase> on one line
  kCompact,  // as kOneLine, but a case without children is <testcase .../>
};

struct JunitSuite {
  explicit JunitSuite(std::string name_, std::optional<double> time = std::nullopt)
      : name(std::move(name_)), time_s(time) {}

  std::string name;
  std::optional<double> time_s;
  bool show_skipped = false;  // write the skipped="N" attribute
  JunitLayout layout = JunitLayout::kLines;
  std::vector<JunitCase> cases;
};

struct JunitReport {
  explicit JunitReport(std::string name_, std::vector<JunitSuite> suites_ = {})
      : name(std::move(name_)), suites(std::move(suites_)) {}

  std::string name;  // <testsuites name="...">
  std::vector<JunitSuite> suites;
};

// tests, failures and skipped are counted from the cases. Times print as an ostream prints a
// double (6 significant digits).
std::string render_junit(const JunitReport& report);

}  // namespace txlab
