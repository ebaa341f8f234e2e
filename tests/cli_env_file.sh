#!/usr/bin/env bash
# Lint without the runtime: an unset ${NAME} is a warning with file:line:column in `txlab lint`
# and an error (exit 2) in run, serve, load, attack and export; --env-file supplies values, the
# environment wins over it, a malformed line is an error with file:line.
set -u
txlab=$1 src=$2 out=$3
mkdir -p "$out"
fail() { echo "FAIL: $*"; exit 1; }
unset $(env | grep -o '^TXLAB_[A-Z0-9_]*') 2>/dev/null
kc="$src/scenarios/vendors/keycloak-direct.yaml"
line=$(grep -n 'issuer: ${TXLAB_KEYCLOAK_URL}' "$kc" | cut -d: -f1)

# lint: exit 0, one warning per reference, at the value's line and column.
"$txlab" lint "$kc" >"$out/lint.out" 2>"$out/lint.err" || fail "lint exits $? on $kc: $(cat "$out/lint.err")"
grep -q "^$kc:$line:13: warning: environment variable 'TXLAB_KEYCLOAK_URL' is not set" "$out/lint.err" \
  || fail "no warning at $kc:$line:13: $(cat "$out/lint.err")"
[ "$(grep -c "TXLAB_KEYCLOAK_URL' is not set" "$out/lint.err")" = 3 ] || fail "not 3 warnings: $(cat "$out/lint.err")"
grep -q "ok (5 roles, 1 workload calls, 3 warnings)" "$out/lint.out" || fail "lint summary: $(cat "$out/lint.out")"
for f in "$src"/scenarios/*.yaml "$src"/scenarios/*/*.yaml; do
  "$txlab" lint "$f" >/dev/null 2>&1 || fail "lint $f exits $?"
done

# The other commands refuse an unset variable: exit 2, the error at the value.
for cmd in run serve load attack "export --compose $out/c.yaml"; do
  "$txlab" $cmd "$kc" >"$out/cmd.out" 2>&1; rc=$?
  [ $rc = 2 ] || fail "txlab $cmd exits $rc with TXLAB_KEYCLOAK_URL unset"
  grep -q "$kc:$line:13: error: environment variable 'TXLAB_KEYCLOAK_URL' is not set" "$out/cmd.out" \
    || fail "txlab $cmd: $(head -3 "$out/cmd.out")"
done

# --env-file: comments, blank lines, export, quotes; the value is used (a bad one is an error).
printf '# Keycloak\n\nexport TXLAB_KEYCLOAK_URL="http://127.0.0.1:9/realms/q"\n' >"$out/good.env"
"$txlab" lint "$kc" --env-file "$out/good.env" >"$out/lint2.out" 2>&1 || fail "lint with good.env: $(cat "$out/lint2.out")"
grep -q "0 warnings" "$out/lint2.out" || fail "warnings with good.env: $(cat "$out/lint2.out")"
printf "TXLAB_KEYCLOAK_URL='ftp://127.0.0.1/realms/q'\n" >"$out/bad.env"
"$txlab" lint "$kc" --env-file "$out/bad.env" >"$out/lint3.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "must be an http:// URL (got 'ftp://127.0.0.1/realms/q/protocol" "$out/lint3.out" \
  || fail "the file's value is not used ($rc): $(cat "$out/lint3.out")"
# The environment wins over the file, both ways.
TXLAB_KEYCLOAK_URL=ftp://env "$txlab" lint "$kc" --env-file "$out/good.env" >"$out/lint4.out" 2>&1
grep -q "got 'ftp://env/protocol" "$out/lint4.out" || fail "the file won over the environment: $(cat "$out/lint4.out")"
TXLAB_KEYCLOAK_URL=http://127.0.0.1:8/realms/e "$txlab" lint "$kc" --env-file "$out/bad.env" >/dev/null 2>&1 \
  || fail "the environment did not win over bad.env"

# A malformed line: exit 2, file:line:column.
printf 'A=1\n# fine\nnot a line\n' >"$out/broken.env"
"$txlab" lint "$kc" --env-file "$out/broken.env" >"$out/broken.out" 2>&1; rc=$?
[ $rc = 2 ] || fail "a malformed env file exits $rc"
grep -q "^$out/broken.env:3:5: error: expected '=' after 'not'" "$out/broken.out" || fail "broken.env: $(cat "$out/broken.out")"
"$txlab" lint "$kc" --env-file "$out/none.env" >"$out/none.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "none.env: error: cannot read env file" "$out/none.out" || fail "missing env file: $rc $(cat "$out/none.out")"
"$txlab" conform --env-file "$out/good.env" --list >"$out/conform.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q -- "--env-file does not apply to 'conform'" "$out/conform.out" || fail "conform --env-file: $rc"

# run takes secrets from the file: without it exit 2, with it the run passes.
sed 's/secret: cfa-secret/secret: ${TXLAB_TEST_CFA_SECRET}/' "$src/scenarios/direct.yaml" >"$out/direct-env.yaml"
[ "$(grep -c 'TXLAB_TEST_CFA_SECRET' "$out/direct-env.yaml")" = 2 ] || fail "the secret edit did not apply"
"$txlab" run "$out/direct-env.yaml" --quiet >"$out/run1.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "TXLAB_TEST_CFA_SECRET' is not set" "$out/run1.out" || fail "run without the secret: $rc"
echo 'TXLAB_TEST_CFA_SECRET=s3cret' >"$out/secret.env"
"$txlab" run "$out/direct-env.yaml" --quiet --env-file "$out/secret.env" >"$out/run2.out" 2>&1 \
  || fail "run with --env-file exits $?: $(tail -5 "$out/run2.out")"
echo "cli env file: ok"
