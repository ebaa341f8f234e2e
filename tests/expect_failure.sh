#!/bin/sh
# Usage: expect_failure.sh REGEX COMMAND...
# Passes when COMMAND exits 1 (not 0, not a crash or usage error) and its output matches REGEX.
regex=$1
shift
out=$("$@" 2>&1)
rc=$?
if [ "$rc" -ne 1 ]; then
  printf '%s\n' "$out"
  echo "expected exit status 1, got $rc"
  exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq -- "$regex"; then
  printf '%s\n' "$out"
  echo "output does not match: $regex"
  exit 1
fi
