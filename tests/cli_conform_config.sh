#!/usr/bin/env bash
# txlab conform --config: the shipped builtin.yaml grades the built-in AS as its flags would;
# flags on the command line win; a mistake in a config is exit 2 with file:line:column.
set -euo pipefail
txlab=$1 root=$2 out=$3
mkdir -p "$out"
"$txlab" conform --config "$root/conformance/configs/builtin.yaml" --json "$out/config.json" \
  --junit "$out/config.junit.xml" >"$out/config.txt"
python3 - "$out/config.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "graded" and r["exit_code"] == 0 and r["profile"] == "common", (r["verdict"], r["exit_code"])
assert "as-c2p" in r["target"], r["target"]
assert r["counts"]["FAILED"] == 0 and r["counts"]["OK"] > 40, r["counts"]
PY
grep -q "scenario broker" "$out/config.txt" || { echo "the config's scenario was not run"; exit 1; }
# The command line wins: another profile and a selection.
"$txlab" conform --config "$root/conformance/configs/builtin.yaml" --profile rfc8693 --only rfc8693/2.1/ \
  --json "$out/override.json" >/dev/null
python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert r['profile'] == 'rfc8693', r['profile']
assert r['cases'] and all(c['id'].startswith('rfc8693/2.1/') for c in r['cases']), len(r['cases'])
" "$out/override.json"
# Mistakes: exit 2, file:line:column, the variable or key named.
expect_error() {  # CONFIG_TEXT REGEX
  printf '%s' "$1" >"$out/bad.yaml"
  set +e
  "$txlab" conform --config "$out/bad.yaml" >"$out/bad.out" 2>&1
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] || { echo "expected exit 2 for:"; cat "$out/bad.yaml"; cat "$out/bad.out"; exit 1; }
  grep -Eq -- "$2" "$out/bad.out" || { echo "no match for '$2' in:"; cat "$out/bad.out"; exit 1; }
}
expect_error $'scenario: x.yaml\nprofle: common\n' "bad\\.yaml:2:1: error: unknown key 'profle' \\(did you mean 'profile'\\?\\)"
expect_error $'concurrency: 4\n' "bad\\.yaml:1:1: error: 'concurrency' \\(--concurrency\\) does not apply to 'conform'"
expect_error $'target-url: ${TXLAB_NOT_SET_IN_THIS_TEST}\n' "bad\\.yaml:1:13: error: environment variable 'TXLAB_NOT_SET_IN_THIS_TEST' is not set"
expect_error $'strict: yes\n' "bad\\.yaml:1:9: error: 'strict' is a switch: true or false"
expect_error $'scenario: [x\n' "bad\\.yaml:2:1: error: "
"$txlab" conform --config "$out/missing.yaml" >"$out/bad.out" 2>&1 && exit 1
grep -q "missing.yaml: error: cannot read the config file" "$out/bad.out"
echo "cli conform config: ok"
