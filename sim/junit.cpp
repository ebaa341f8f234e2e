// The one JUnit XML writer.
#include "sim/junit.h"

#include <sstream>

#include "sim/xml.h"

namespace txlab {

namespace {

bool has_children(const JunitCase& c) {
  return !c.properties.empty() || c.system_out || c.failure || c.skipped;
}

// The case's child elements, each preceded by `indent` and followed by `eol`.
void write_children(std::ostringstream& o, const JunitCase& c, const char* indent,
                    const char* eol) {
  if (!c.properties.empty()) {
    o << indent << "<properties>";
    for (const auto& [name, value] : c.properties)
      o << "<property name=\"" << xml_escape(name) << "\" value=\"" << xml_escape(value) << "\"/>";
    o << "</properties>" << eol;
  }
  if (c.system_out)
    o << indent << "<system-out>" << xml_escape(*c.system_out) << "</system-out>" << eol;
  if (c.failure) {
    o << indent << "<failure message=\"" << xml_escape(c.failure->message) << "\"";
    if (c.failure->text)
      o << ">" << xml_escape(*c.failure->text) << "</failure>" << eol;
    else
      o << "/>" << eol;
  }
  if (c.skipped) o << indent << "<skipped message=\"" << xml_escape(*c.skipped) << "\"/>" << eol;
}

void write_case(std::ostringstream& o, const JunitCase& c, JunitLayout layout) {
  o << "    <testcase classname=\"" << xml_escape(c.classname) << "\" name=\"" << xml_escape(c.name)
    << "\"";
  if (c.time_s) o << " time=\"" << *c.time_s << "\"";
  if (layout == JunitLayout::kCompact && !has_children(c)) {
    o << "/>\n";
    return;
  }
  if (layout == JunitLayout::kLines) {
    o << ">\n";
    write_children(o, c, "      ", "\n");
    o << "    </testcase>\n";
  } else {
    o << ">";
    write_children(o, c, "", "");
    o << "</testcase>\n";
  }
}

void write_suite(std::ostringstream& o, const JunitSuite& s) {
  size_t failures = 0, skipped = 0;
  for (const auto& c : s.cases) {
    failures += c.failure ? 1 : 0;
    skipped += c.skipped ? 1 : 0;
  }
  o << "  <testsuite name=\"" << xml_escape(s.name) << "\" tests=\"" << s.cases.size()
    << "\" failures=\"" << failures << "\"";
  if (s.show_skipped) o << " skipped=\"" << skipped << "\"";
  if (s.time_s) o << " time=\"" << *s.time_s << "\"";
  o << ">\n";
  for (const auto& c : s.cases) write_case(o, c, s.layout);
  o << "  </testsuite>\n";
}

}  // namespace

std::string render_junit(const JunitReport& report) {
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" << xml_escape(report.name)
    << "\">\n";
  for (const auto& s : report.suites) write_suite(o, s);
  o << "</testsuites>\n";
  return o.str();
}

}  // namespace txlab
