#!/usr/bin/env python3
"""Check that every conformance case quotes its RFC verbatim, in the section it names.

usage: rfc_quotes.py CASES.json [RFC_DIR]
       rfc_quotes.py --self-test

--self-test checks the checker itself on a small made-up RFC (no files needed; for CI).

CASES.json: {"cases": [{"id": .., "section": "RFC 8693 §2.2.2", "level": "MUST",
"requirement": ".."}]}. RFC_DIR (default: data/rfc next to this script) holds rfcNNNN.txt.

Each requirement is split into fragments at " ... " (elisions); an inline attribution such as
"(RFC 9068 §4)" names the source of the fragment(s) since the previous attribution, the rest
come from the case's own section. A fragment must occur verbatim (whitespace, page breaks,
curly quotes and line-end hyphenation normalized; the first letter may differ in case) between the heading of its section and the
next heading of the same or a higher level. The case's level must match the strongest BCP 14
keyword of the quoted text (NONE when it has none). Prints one line per mismatch, exit 1 if any.
"""
import json
import os
import re
import sys
import tempfile

PAGE_HEADER = re.compile(r"^RFC \d+ {2,}.*\S {2,}\S.*\d{4}$")
PAGE_FOOTER = re.compile(r"^\S.* {2,}\[Page \d+\]$")
HEADING = re.compile(r"^(?:Appendix )?((?:\d+|[A-Z])(?:\.\d+)*)\.?\s+\S")
SECTION = re.compile(r"^RFC\s*(\d+)\s*§\s*([A-Za-z0-9.]+?)\.?$")
ATTRIBUTION = re.compile(r"\(\s*RFC\s*(\d+)\s*§\s*([A-Za-z0-9.]+?)\.?\s*\)")
ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)\s*")
QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " "})
KEYWORDS = [  # longest first, so "MUST NOT" is not also counted as "MUST"
    ("NOT RECOMMENDED", "SHOULD"), ("MUST NOT", "MUST"), ("SHALL NOT", "MUST"),
    ("SHOULD NOT", "SHOULD"), ("REQUIRED", "MUST"), ("MUST", "MUST"), ("SHALL", "MUST"),
    ("RECOMMENDED", "SHOULD"), ("SHOULD", "SHOULD"), ("OPTIONAL", "MAY"), ("MAY", "MAY")]
STRENGTH = {"MUST": 3, "SHOULD": 2, "MAY": 1, "NONE": 0}


def normalize(text):
    text = re.sub(r"\s+", " ", text.translate(QUOTES)).strip()
    return re.sub(r"(?<=[A-Za-z0-9]-) (?=[A-Za-z0-9])", "", text)  # "DPoP-\n bound"


class Rfc:
    """One RFC: its normalized text and where each numbered section starts."""

    def __init__(self, path):
        self.text, self.heads = "", []  # heads: (number, level, offset of the heading)
        with open(path, encoding="utf-8") as f:
            for line in f.read().replace("\f", "\n").split("\n"):
                if PAGE_HEADER.match(line) or PAGE_FOOTER.match(line) or not line.strip():
                    continue
                part = normalize(line)
                tail = self.text[-2:]
                joined = len(tail) == 2 and tail[0].isalnum() and tail[1] == "-"
                glue = "" if not self.text or (joined and part[0].isalnum()) else " "
                m = HEADING.match(line)
                if m:
                    self.heads.append((m.group(1), m.group(1).count(".") + 1,
                                       len(self.text) + len(glue)))
                self.text += glue + part

    def span(self, number):
        for i, (n, level, start) in enumerate(self.heads):
            if n == number:
                end = next((s for _, l, s in self.heads[i + 1:] if l <= level), len(self.text))
                return start, end
        return None

    def section_at(self, pos):
        inner = None
        for n, _, start in self.heads:
            if start <= pos:
                inner = n
        return inner or "front matter"


def fragments(requirement, section):
    """[(rfc, section, fragment)] with inline attributions applied."""
    out, pending, last = [], [], 0
    for m in list(ATTRIBUTION.finditer(requirement)) + [None]:
        chunk = requirement[last:m.start() if m else len(requirement)]
        pending += [f for f in ELLIPSIS.split(chunk) if f.strip(" .,;:")]
        src = (m.group(1), m.group(2)) if m else section
        out += [(src[0], src[1], f) for f in pending]
        pending, last = [], (m.end() if m else 0)
    return out


def level_of(text):
    best, rest = "NONE", text
    for word, level in KEYWORDS:
        if re.search(r"\b%s\b" % word, rest):
            rest = re.sub(r"\b%s\b" % word, " ", rest)
            best = max(best, level, key=STRENGTH.get)
    return best


def check_case(case, rfc_dir, cache):
    problems = []
    cid, sec = case.get("id", "?"), case.get("section", "")
    m = SECTION.match(sec.strip())
    if not m:
        return ["%s: section %r is not of the form 'RFC NNNN §X.Y'" % (cid, sec)]
    requirement = case.get("requirement", "")
    for num, where, frag in fragments(requirement, (m.group(1), m.group(2))):
        if num not in cache:
            path = os.path.join(rfc_dir, "rfc%s.txt" % num)
            cache[num] = Rfc(path) if os.path.exists(path) else None
        rfc = cache[num]
        if rfc is None:
            problems.append("%s: no text of RFC %s in %s" % (cid, num, rfc_dir))
            continue
        needle = normalize(frag).strip(" .")
        # A quote may capitalize the first letter of a clause it starts mid-sentence.
        first = "[%s%s]" % (needle[:1].lower(), needle[:1].upper()) if needle else ""
        pattern = re.escape(needle[:1]) if not needle[:1].isalpha() else first
        hits = [h.start() for h in re.finditer(pattern + re.escape(needle[1:]), rfc.text)]
        span = rfc.span(where)
        short = needle if len(needle) <= 70 else needle[:67] + "..."
        if span is None:
            problems.append("%s: RFC %s has no section %s" % (cid, num, where))
        elif not hits:
            problems.append("%s: not in RFC %s: \"%s\"" % (cid, num, short))
        elif not any(span[0] <= h < span[1] for h in hits):
            found = ", ".join(sorted({"§" + rfc.section_at(h) for h in hits}))
            problems.append("%s: RFC %s §%s: found in %s instead: \"%s\"" %
                            (cid, num, where, found, short))
    quoted = ATTRIBUTION.sub(" ", requirement)
    want, have = level_of(quoted), case.get("level", "").upper()
    if have != want:
        problems.append("%s: level %s, but the quoted text's keyword is %s" % (cid, have, want))
    return problems


SELF_TEST_RFC = """\
RFC 9999                  A Made-Up Protocol                January 2024

1.  Introduction

   The server MUST answer every request.  Clients MAY retry a request

Doe                          Standards Track                    [Page 1]
\f
RFC 9999                  A Made-Up Protocol                January 2024

   that was not answered.  The "error" member carries a code-
   word.

2.  Details

   error REQUIRED.  A code from the following:

   bad_thing  The request is malformed.

2.1.  Values

   The value is defined here, without any keyword.

Appendix A.  Notes

   Servers SHOULD log.
"""


def self_test():
    """Assertions on a made-up RFC: verbatim quotes pass, paraphrases and wrong sections fail."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "rfc9999.txt"), "w", encoding="utf-8") as f:
            f.write(SELF_TEST_RFC)

        def check(section, level, requirement):
            case = {"id": "t", "section": section, "level": level, "requirement": requirement}
            return check_case(case, d, {})

        failures = []

        def expect(name, problems, want):
            if bool(problems) != bool(want) or (want and not any(want in p for p in problems)):
                failures.append("%s: got %r, want %s" % (name, problems, want or "no problem"))

        expect("verbatim", check("RFC 9999 §1", "MUST", "The server MUST answer every request."),
               None)
        expect("across a page break", check("RFC 9999 §1", "MAY",
                                            "Clients MAY retry a request that was not answered."),
               None)
        expect("a hyphen at a line end joins the words",
               check("RFC 9999 §1", "NONE", 'The "error" member carries a code-word.'), None)
        expect("first letter in another case", check("RFC 9999 §1", "MAY",
                                                     "clients MAY retry a request"), None)
        expect("elision", check("RFC 9999 §1", "MUST",
                                "The server MUST answer ... Clients MAY retry a request"), None)
        expect("curly quotes", check("RFC 9999 §1", "NONE",
                                     "The \u201cerror\u201d member carries"), None)
        expect("subsection inside its parent", check("RFC 9999 §2", "NONE",
                                                     "The value is defined here"), None)
        expect("code joined with its definition", check(
            "RFC 9999 §2", "MUST", "error REQUIRED. A code from the following: ... bad_thing "
            "The request is malformed."), None)
        expect("inline attribution", check(
            "RFC 9999 §2.1", "MUST", "The server MUST answer every request. (RFC 9999 §1) The "
            "value is defined here"), None)
        expect("appendix", check("RFC 9999 §A", "SHOULD", "Servers SHOULD log."), None)
        expect("paraphrase", check("RFC 9999 §1", "MUST", "The server MUST reply to requests."),
               "not in RFC 9999")
        expect("colon added after a term", check("RFC 9999 §2", "NONE",
                                                 "bad_thing: The request is malformed."),
               "not in RFC 9999")
        expect("own words appended", check(
            "RFC 9999 §1", "MUST", "The server MUST answer every request. Always, says txlab."),
               "not in RFC 9999")
        expect("wrong section", check("RFC 9999 §2", "MUST",
                                      "The server MUST answer every request."),
               "found in §1 instead")
        expect("subsection is not its parent", check("RFC 9999 §2.1", "NONE",
                                                     "bad_thing The request is malformed"),
               "found in §2 instead")
        expect("no such section", check("RFC 9999 §7", "MUST", "The server MUST answer"),
               "has no section 7")
        expect("level weaker than the quote", check("RFC 9999 §1", "SHOULD",
                                                    "The server MUST answer every request."),
               "keyword is MUST")
        expect("level without a keyword", check("RFC 9999 §2.1", "MUST",
                                                "The value is defined here"),
               "keyword is NONE")
        expect("lower-case keyword is not one", check("RFC 9999 §1", "NONE",
                                                      "Clients MAY retry a request"),
               "keyword is MAY")
        expect("malformed section", check("RFC 9999 section 1", "MUST", "The server MUST"),
               "is not of the form")
        expect("unknown RFC", check("RFC 9998 §1", "MUST", "The server MUST"),
               "no text of RFC 9998")
    for f in failures:
        print("self-test: " + f)
    if failures:
        return 1
    print("self-test: all checks behave")
    return 0


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 2
    if argv[1] == "--self-test":
        return self_test()
    rfc_dir = argv[2] if len(argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "data", "rfc")
    with open(argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    cache, problems = {}, []
    for case in cases:
        problems += check_case(case, rfc_dir, cache)
    for p in problems:
        print(p)
    if problems:
        return 1
    print("%d quotes checked, all found" % len(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
