#!/usr/bin/env python3
"""Sets the token-exchange permissions of Keycloak's legacy token exchange (V1) that a realm file
cannot carry, through the admin API (fine-grained admin permissions v1).

usage: keycloak_permissions.py BASE_URL REALM REALM_JSON

For the realm `txlab export --keycloak-realm` wrote (REALM_JSON): the clients with token
exchange on may exchange tokens of every identity provider (external-to-internal exchange) and
may ask for every other client of the realm as an audience. The admin is the bootstrap admin
(admin/admin) keycloak.sh starts Keycloak with.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

base, realm, realm_file = sys.argv[1:4]


def call(method, path, body=None, token=None, form=None):
    headers, data = {}, None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            text = r.read().decode()
            return json.loads(text) if text.strip().startswith(("{", "[")) else text
    except urllib.error.HTTPError as e:
        sys.exit(f"keycloak_permissions: {method} {path}: {e.code} {e.read().decode()[:300]}")


spec = json.load(open(realm_file))
admin = call("POST", "/realms/master/protocol/openid-connect/token",
             form={"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                   "password": "admin"})["access_token"]
clients = {c["clientId"]: c["id"] for c in call("GET", f"/admin/realms/{realm}/clients", token=admin)}
exchangers = [c["clientId"] for c in spec["clients"]
              if c.get("attributes", {}).get("standard.token.exchange.enabled") == "true"]
audiences = [c["clientId"] for c in spec["clients"] if c["clientId"] not in exchangers]
providers = [p["alias"] for p in spec.get("identityProviders", [])]
if not exchangers or not providers:
    sys.exit(f"keycloak_permissions: nothing to permit (exchangers {exchangers}, providers {providers})")

# Enabling an object's permissions creates realm-management's authorization resource server and
# the object's token-exchange permission; the policy can be made only after that.
permission_ids = []
for alias in providers:
    path = f"/admin/realms/{realm}/identity-provider/instances/{alias}/management/permissions"
    permission_ids.append(call("PUT", path, {"enabled": True}, admin)["scopePermissions"]["token-exchange"])
for client in audiences:
    path = f"/admin/realms/{realm}/clients/{clients[client]}/management/permissions"
    permission_ids.append(call("PUT", path, {"enabled": True}, admin)["scopePermissions"]["token-exchange"])
authz = f"/admin/realms/{realm}/clients/{clients['realm-management']}/authz/resource-server"
policy = call("POST", f"{authz}/policy/client", token=admin,
              body={"name": "txlab: the brokers may exchange", "logic": "POSITIVE",
                    "clients": [clients[c] for c in exchangers]})
for permission_id in permission_ids:
    permission = call("GET", f"{authz}/permission/scope/{permission_id}", token=admin)
    permission["policies"] = [policy["id"]]
    call("PUT", f"{authz}/permission/scope/{permission_id}", permission, admin)
print(f"keycloak: {', '.join(exchangers)} may exchange tokens of {', '.join(providers)} "
      f"for {', '.join(audiences)} (token-exchange permissions, V1)")
