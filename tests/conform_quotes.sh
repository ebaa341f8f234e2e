#!/usr/bin/env bash
# Every quoted requirement is the RFC's own words, found verbatim in the section it names, and
# its level is that sentence's BCP 14 keyword: the case list and the requirements inventory,
# both checked mechanically against the RFC texts shipped in tests/data/rfc (tests/rfc_quotes.py).
set -euo pipefail
txlab=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
python3 "$here/rfc_quotes.py" --self-test
"$txlab" conform --list --json "$out/cases.json"
python3 "$here/rfc_quotes.py" "$out/cases.json" "$here/data/rfc"
"$txlab" conform --requirements --json "$out/requirements.json"
python3 "$here/rfc_quotes.py" "$out/requirements.json" "$here/data/rfc"
# The inventory and the coverage figure are printed for users.
"$txlab" conform --requirements | tail -1 | grep -Eq '^coverage: [0-9]+/[0-9]+ testable sentences'
