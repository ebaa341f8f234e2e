#!/usr/bin/env bash
# Usage: actionlint.sh WORKFLOW...
# actionlint (pinned, installed on first use by tests/ci/tools.sh) over GitHub Actions workflows,
# with shellcheck on their `run:` scripts. Exit 0 clean, 1 findings, 2 setup error (without
# Debian's shellcheck on PATH, actionlint would silently skip the scripts).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(bash "$here/tools.sh" --print-path) || { echo "actionlint.sh: tests/ci/tools.sh failed" >&2; exit 2; }
shellcheck=$(command -v shellcheck) || {
  echo "actionlint.sh: shellcheck is missing (scripts/install-deps.sh installs Debian's)" >&2
  exit 2
}
"$bin" -no-color -shellcheck="$shellcheck" "$@"
rc=$?
[ "$rc" -eq 0 ] && echo "actionlint: ok ($*)"
exit "$rc"
