#!/usr/bin/env python3
"""Probes the external-token exchange of tests/interop/spring-as (--txlab.external-issuer) with
hand-made subject tokens: a valid one must be exchanged, and each defect the provider checks
(signature, alg, iss, aud, exp, nbf, sub, scope, client grant) must be refused with a 400 OAuth
error, never a 500 nor a token.

usage: spring_broker_probe.py SAS_URL ISSUER KEY.pem STRANGER_KEY.pem
"""
import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

sas, issuer, key_file, stranger_file = sys.argv[1:5]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load(path):
    return serialization.load_pem_private_key(open(path, "rb").read(), password=None)


def sign(claims, key, header=None):
    head = header or {"alg": "ES256", "typ": "at+jwt"}
    data = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(claims).encode())}"
    if head["alg"] == "none":
        return data + "."
    r, s = decode_dss_signature(key.sign(data.encode(), ec.ECDSA(hashes.SHA256())))
    return data + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def sign_hs256(claims, secret):
    data = f"{b64(json.dumps({'alg': 'HS256'}).encode())}.{b64(json.dumps(claims).encode())}"
    return data + "." + b64(hmac.new(secret, data.encode(), hashlib.sha256).digest())


def exchange(token, client=("c2p-svc-broker-to-c2pe", "broker-secret"), scope="orders.read"):
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange", "subject_token": token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "audience": "pba"}
    if scope:
        form["scope"] = scope
    req = urllib.request.Request(sas + "/oauth2/token", data=urllib.parse.urlencode(form).encode())
    req.add_header("Authorization", "Basic " + base64.b64encode(":".join(client).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, json.loads(body) if body.startswith(b"{") else {"raw": body.decode(errors="replace")}


def claims(**over):
    now = int(time.time())
    c = {"iss": issuer, "sub": "alice", "aud": sas, "exp": now + 300, "iat": now, "scope": "orders.read"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


key, stranger = load(key_file), load(stranger_file)
status, body = exchange(sign(claims(), key))
assert status == 200, (status, body)
at3 = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
assert at3["iss"] == sas and at3["sub"] == "alice" and at3["aud"] in ("pba", ["pba"]), at3
assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token", body
print(f"probe: a valid external token is exchanged (sub alice, aud {at3['aud']})")

now = int(time.time())
pub_pem = load(key_file).public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
# name: (token, exchange() arguments, error, a fragment of its description naming the reason)
refused = {
    "signed with another key": (sign(claims(), stranger), {}, "invalid_request", "Invalid signature"),
    "alg none": (sign(claims(), key, {"alg": "none"}), {}, "invalid_request", "none"),
    "HS256 keyed with the public key": (sign_hs256(claims(), pub_pem), {}, "invalid_request", "JWT rejected"),
    "another issuer, same key": (sign(claims(iss="https://auth.elsewhere.cloud"), key), {}, "invalid_grant", ""),
    "aud not naming SAS": (sign(claims(aud="https://other.example"), key), {}, "invalid_request", "aud claim"),
    "expired": (sign(claims(exp=now - 3600, iat=now - 7200), key), {}, "invalid_request", "expired"),
    "no exp": (sign(claims(exp=None), key), {}, "invalid_request", "exp claim"),
    "not yet valid": (sign(claims(nbf=now + 3600), key), {}, "invalid_request", "used before"),
    "no sub": (sign(claims(sub=None), key), {}, "invalid_request", "no sub"),
    "typ JOSE": (sign(claims(), key, {"alg": "ES256", "typ": "JOSE"}), {}, "invalid_request", "typ"),
    "a scope the subject token lacks": (sign(claims(), key), {"scope": "orders.write"}, "invalid_scope", "scope"),
    "a client without the exchange grant": (
        sign(claims(), key), {"client": ("reader-client", "reader-secret")}, "unauthorized_client", "token exchange"),
}
for name, (token, kw, error, reason) in refused.items():
    status, body = exchange(token, **kw)
    assert status == 400 and body.get("error") == error, (name, status, body)
    assert reason in body.get("error_description", ""), (name, body)
    print(f"probe: {name}: 400 {error} ({body.get('error_description', '')})")
