#!/usr/bin/env bash
# One real Keycloak for the tests that need it (a ctest fixture: start, the tests, stop).
#
#   keycloak.sh start STATE_DIR TXLAB [VERSION [broker]]
#                                 resolve the pinned keycloak-quarkus-dist from Maven Central
#                                 (cached), unpack it once, generate the realm from the scenario
#                                 scenarios/vendors/keycloak-direct.yaml (`txlab export
#                                 --keycloak-realm --conformance-clients`: the chain's clients and
#                                 the conformance clients) plus an RSA signing key txlab also
#                                 holds (so key-dependent conformance cases run), start it in dev
#                                 mode on free loopback ports (H2, fresh database each start),
#                                 wait until the realm answers.
#   keycloak.sh stop STATE_DIR    stop it; its log stays in STATE_DIR/keycloak.log.
#
# It serves the realm over http and, on a second port, over https asking for a client
# certificate (RFC 8705 mutual TLS; Keycloak's X509 client authenticator): the fixture's CA signs
# the server's and the clients' certificates.
#
# With `broker`, the realm is the on-prem AS of scenarios/vendors/keycloak-broker.yaml instead:
# legacy token exchange V1 on (--features=token-exchange:v1,admin-fine-grained-authz:v1, its
# external-to-internal exchange), an identity provider holding AS-C2P's public key (STATE_DIR/
# c2p-signing-key.pem, a fresh EC key), and the token-exchange permissions the realm file cannot
# carry, set through the admin API once Keycloak answers. V1 must never be on during a V2 run
# (conformance), so the broker realm is another Keycloak, with its own copy of the server.
#
# STATE_DIR gets: version, url (the realm's issuer URL), https-url (the same realm over https), pid,
# signing-key.pem, keycloak.log, and tls/: ca.pem, mtls-client.{pem,key} (the certificate the
# realm's mtls-client authenticates with), other-client.{pem,key} (another subject of the same
# CA), untrusted.{pem,key} (mtls-client's subject from a CA Keycloak does not trust).
# Two versions are pinned, each with its own grades: the newest 26.x Maven Central serves, and
# the newest patch of 26.2, the first minor with standard token exchange (V2) supported and on
# by default (the previous major, 25.x, has only the legacy preview). Upgrading is these lines:
KEYCLOAK_VERSION=26.7.3
KEYCLOAK_PREVIOUS=26.2.5
set -euo pipefail
cmd=${1:?usage: keycloak.sh start|stop STATE_DIR [TXLAB [VERSION]]} state=${2:?usage: keycloak.sh start|stop STATE_DIR [TXLAB [VERSION]]}
txlab=${3:-}
mode=${5:-}
[ -z "$mode" ] || [ "$mode" = broker ] || { echo "keycloak.sh: the fifth argument is 'broker' or nothing" >&2; exit 2; }
case "${4:-newest}" in
  newest|"$KEYCLOAK_VERSION") ;;
  previous|"$KEYCLOAK_PREVIOUS") KEYCLOAK_VERSION=$KEYCLOAK_PREVIOUS ;;
  *) echo "keycloak.sh: VERSION is newest ($KEYCLOAK_VERSION) or previous ($KEYCLOAK_PREVIOUS)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
cache=${TXLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/txlab}
home="$cache/keycloak-$KEYCLOAK_VERSION${mode:+-$mode}"
say() { echo "keycloak: $*"; }

. "$here/fixture_lib.sh"
stop() { stop_pid "$state"; }

if [ "$cmd" = stop ]; then stop; say "stopped"; exit 0; fi
[ "$cmd" = start ] || { echo "usage: keycloak.sh start|stop STATE_DIR" >&2; exit 2; }

command -v java >/dev/null || { say "FAIL: java is not installed (scripts/install-deps.sh installs openjdk-17)"; exit 1; }
[ -x "$txlab" ] || { say "FAIL: start needs the txlab binary (it generates the realm): keycloak.sh start STATE_DIR TXLAB"; exit 2; }
mkdir -p "$state" "$cache"
stop
rm -f "$state/url"
if [ ! -x "$home/bin/kc.sh" ]; then
  zip="$cache/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
  if [ ! -s "$zip" ]; then
    command -v mvn >/dev/null || { say "FAIL: mvn is not installed"; exit 1; }
    say "resolving org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip from Maven Central"
    mvn -q -B dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
      -DoutputDirectory="$cache" >"$state/mvn.log" 2>&1 || { say "FAIL: Maven could not resolve Keycloak:"; tail -20 "$state/mvn.log"; exit 1; }
  fi
  say "unpacking $zip"
  rm -rf "$home.tmp" && mkdir -p "$home.tmp"
  (cd "$home.tmp" && unzip -q "$zip")
  mv "$home.tmp/keycloak-$KEYCLOAK_VERSION" "$home" && rm -rf "$home.tmp"
fi

# Fresh database and realm each start: the realm file is generated with this run's key.
rm -rf "$home/data/h2" "$home/data/import"
mkdir -p "$home/data/import"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$state/signing-key.pem" 2>/dev/null
openssl req -new -x509 -key "$state/signing-key.pem" -subj "/CN=txlab" -days 2 -out "$state/signing-cert.pem" 2>/dev/null
# The realm from the scenario (the realm's URL is known only once Keycloak runs; its name is).
if [ "$mode" = broker ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$state/c2p-signing-key.pem" 2>/dev/null
  TXLAB_KEYCLOAK_BROKER_URL=http://127.0.0.1/realms/txlab TXLAB_KEYCLOAK_BROKER_KEY="$state/c2p-signing-key.pem" \
    "$txlab" export "$here/../../scenarios/vendors/keycloak-broker.yaml" --keycloak-realm "$state/realm.json" >/dev/null \
    || { say "FAIL: txlab export --keycloak-realm failed"; exit 1; }
  features=(--features=token-exchange:v1,admin-fine-grained-authz:v1)
else
  TXLAB_KEYCLOAK_URL=http://127.0.0.1/realms/txlab "$txlab" export "$here/../../scenarios/vendors/keycloak-direct.yaml" \
    --keycloak-realm "$state/realm.json" --conformance-clients >/dev/null \
    || { say "FAIL: txlab export --keycloak-realm failed"; exit 1; }
  features=()
fi
python3 - "$state/realm.json" "$state/signing-key.pem" "$state/signing-cert.pem" "$home/data/import/txlab-realm.json" <<'PY'
import json, sys
realm = json.load(open(sys.argv[1]))
strip = lambda path: "".join(l for l in open(path).read().splitlines() if not l.startswith("-----"))
# The realm's signing key is one txlab holds too (--issuer-key): Keycloak signs with the
# highest-priority RS256 key, and accepts subject tokens signed by any active realm key.
realm["components"] = {"org.keycloak.keys.KeyProvider": [{
    "name": "txlab-rsa", "providerId": "rsa",
    "config": {"privateKey": [strip(sys.argv[2])], "certificate": [strip(sys.argv[3])],
               "priority": ["1000"], "algorithm": ["RS256"], "active": ["true"], "enabled": ["true"]}}]}
json.dump(realm, open(sys.argv[4], "w"), indent=1)
PY

# Mutual TLS material: a CA, the server's certificate (127.0.0.1), the clients' certificates.
tls="$state/tls"
rm -rf "$tls" && mkdir -p "$tls"
ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
issue() {  # NAME SUBJECT EXT CA
  ec -subj "$2" -keyout "$tls/$1.key" -out "$tls/$1.csr"
  printf '%s\n' "$3" >"$tls/$1.ext"
  openssl x509 -req -in "$tls/$1.csr" -CA "$tls/$4.pem" -CAkey "$tls/$4.key" -CAcreateserial \
    -days 2 -extfile "$tls/$1.ext" -out "$tls/$1.pem" 2>/dev/null
}
ec -x509 -days 2 -subj "/O=txlab/CN=txlab keycloak fixture CA" -keyout "$tls/ca.key" -out "$tls/ca.pem"
ec -x509 -days 2 -subj "/O=txlab/CN=stranger CA" -keyout "$tls/stranger-ca.key" -out "$tls/stranger-ca.pem"
issue server "/O=txlab/CN=127.0.0.1" "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth" ca
issue mtls-client "/O=txlab/CN=mtls-client" "extendedKeyUsage=clientAuth" ca
issue other-client "/O=txlab/CN=other-client" "extendedKeyUsage=clientAuth" ca
issue untrusted "/O=txlab/CN=mtls-client" "extendedKeyUsage=clientAuth" stranger-ca
rm -f "$tls"/*.csr "$tls"/*.ext "$tls"/*.srl
keytool -importcert -noprompt -alias txlab-ca -file "$tls/ca.pem" -keystore "$tls/truststore.p12" \
  -storetype PKCS12 -storepass txlab-trust >/dev/null 2>&1 || { say "FAIL: keytool could not write the truststore"; exit 1; }

port=$(free_port) mport=$(free_port) sport=$(free_port)
say "starting Keycloak $KEYCLOAK_VERSION on 127.0.0.1:$port (dev mode, H2; log: $state/keycloak.log)"
(
  cd "$home"
  export KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin
  exec setsid bin/kc.sh start-dev --http-host=127.0.0.1 --http-port="$port" \
    --http-management-port="$mport" --hostname-strict=false --import-realm \
    --https-port="$sport" --https-certificate-file="$tls/server.pem" \
    --https-certificate-key-file="$tls/server.key" --https-trust-store-file="$tls/truststore.p12" \
    --https-trust-store-password=txlab-trust --https-client-auth=request "${features[@]}" \
    </dev/null >"$state/keycloak.log" 2>&1
) &
echo $! >"$state/pid"
url="http://127.0.0.1:$port/realms/txlab"
wait_ready "$state" "$url/.well-known/openid-configuration" 300 "$state/keycloak.log"
echo "https://127.0.0.1:$sport/realms/txlab" >"$state/https-url"
if [ "$mode" = broker ]; then
  python3 "$here/keycloak_permissions.py" "http://127.0.0.1:$port" txlab "$state/realm.json" \
    || { say "FAIL: the token-exchange permissions could not be set (see above)"; exit 1; }
fi
echo "$KEYCLOAK_VERSION" >"$state/version"
echo "$url" >"$state/url"
say "$url (and https://127.0.0.1:$sport/realms/txlab, mutual TLS)"
