// XML text and attribute escaping, for the JUnit reports (conformance, attacks, runs).
#pragma once

#include <string>
#include <string_view>

namespace txlab {

// &, <, >, " as entities; control characters other than tab and newline as spaces (XML 1.0
// cannot carry them).
inline std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
          out += ' ';
        else
          out += c;
    }
  }
  return out;
}

}  // namespace txlab
