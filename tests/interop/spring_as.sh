#!/usr/bin/env bash
# One real Spring Authorization Server (tests/interop/spring-as, Maven, Spring Boot parent
# pinned in its pom.xml) for the tests that need it (a ctest fixture: start, tests, stop).
#
#   spring_as.sh start STATE_DIR   build the app once (rebuilt when its sources change; Maven
#                                  Central, cached in ~/.m2), generate an RS256 signing key txlab
#                                  also holds, start it on a free loopback port, wait for it.
#   spring_as.sh stop STATE_DIR
# SPRING_AS_ARGS adds application arguments (e.g. --txlab.audience-from-request=true).
#
# STATE_DIR gets: url (the issuer), pid, signing-key.pem, spring-as.log, build/.
set -euo pipefail
cmd=${1:?usage: spring_as.sh start|stop STATE_DIR} state=${2:?usage: spring_as.sh start|stop STATE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
say() { echo "spring-as: $*"; }

. "$here/fixture_lib.sh"
stop() { stop_pid "$state"; }
if [ "$cmd" = stop ]; then stop; say "stopped"; exit 0; fi
[ "$cmd" = start ] || { echo "usage: spring_as.sh start|stop STATE_DIR" >&2; exit 2; }
command -v java >/dev/null && command -v mvn >/dev/null || { say "FAIL: java and mvn are required (scripts/install-deps.sh installs them)"; exit 1; }
mkdir -p "$state"
stop
rm -f "$state/url"

# Build outside the source tree; skip when the sources are unchanged since the last build.
src="$here/spring-as" build="$state/build"
sum=$(cd "$src" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
jar="$build/target/txlab-spring-as.jar"
if [ ! -s "$jar" ] || [ "$(cat "$build/.sum" 2>/dev/null)" != "$sum" ]; then
  say "building the app with Maven (first time: dependencies from Maven Central)"
  rm -rf "$build" && mkdir -p "$build" && cp -r "$src/pom.xml" "$src/src" "$build/"
  (cd "$build" && mvn -q -B -DskipTests package) >"$state/mvn.log" 2>&1 || { say "FAIL: Maven build failed:"; tail -30 "$state/mvn.log"; exit 1; }
  echo "$sum" >"$build/.sum"
fi

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$state/signing-key.pem" 2>/dev/null
port=$(free_port)
url="http://127.0.0.1:$port"
say "starting Spring Authorization Server on $url (log: $state/spring-as.log)"
# shellcheck disable=SC2086  # SPRING_AS_ARGS: extra application arguments, word-split on purpose
setsid java -jar "$jar" --server.port="$port" --txlab.issuer="$url" \
  --txlab.signing-key="$state/signing-key.pem" ${SPRING_AS_ARGS:-} </dev/null >"$state/spring-as.log" 2>&1 &
echo $! >"$state/pid"
wait_ready "$state" "$url/.well-known/oauth-authorization-server" 180 "$state/spring-as.log"
echo "$url" >"$state/url"
say "$url"
