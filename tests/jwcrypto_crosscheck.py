#!/usr/bin/env python3
"""Independent JOSE implementation (python3-jwcrypto) for txlab's cross-check test.

  verify JWKS_FILE TOKEN_FILE  -> prints the claims JSON and exits 0 if the JWS verifies
  sign ALG OUT_JWKS OUT_TOKEN  -> generates a key, writes its public JWKS and a signed token
"""
import json
import sys
import time

from jwcrypto import jwk, jws

ALGS = {"ES256": dict(kty="EC", crv="P-256"), "RS256": dict(kty="RSA", size=2048),
        "PS256": dict(kty="RSA", size=2048), "EdDSA": dict(kty="OKP", crv="Ed25519")}


def verify(jwks_file, token_file):
    keys = jwk.JWKSet.from_json(open(jwks_file).read())
    token = open(token_file).read().strip()
    obj = jws.JWS()
    obj.deserialize(token)
    header = obj.jose_header
    key = keys.get_key(header.get("kid"))
    if key is None:
        print("no key for kid", file=sys.stderr)
        return 1
    try:
        obj.allowed_algs = [header["alg"]]
        obj.verify(key)
    except Exception as e:  # noqa: BLE001 - any failure is a verification failure
        print("verify failed: %s" % e, file=sys.stderr)
        return 1
    print(obj.payload.decode())
    return 0


def sign(alg, out_jwks, out_token):
    key = jwk.JWK.generate(**ALGS[alg])
    kid = key.thumbprint()
    pub = json.loads(key.export_public())
    pub.update(kid=kid, alg=alg, use="sig")
    open(out_jwks, "w").write(json.dumps({"keys": [pub]}))
    now = int(time.time())
    claims = {"iss": "https://jwcrypto.test", "sub": "peer", "aud": "gateway-c2pe", "exp": now + 300, "iat": now}
    obj = jws.JWS(json.dumps(claims).encode())
    obj.add_signature(key, alg=alg, protected=json.dumps({"alg": alg, "kid": kid, "typ": "at+jwt"}))
    open(out_token, "w").write(obj.serialize(compact=True))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3]))
    sys.exit(sign(sys.argv[2], sys.argv[3], sys.argv[4]))
