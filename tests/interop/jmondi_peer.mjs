// A third-party RFC 8693 implementation for `make test`: @jmondi/oauth2-server (npm, pinned by
// package-lock.json) with the minimal exchange configuration a developer would write — the
// subject token is verified with the server's own ES256 key (jsonwebtoken) and its sub becomes
// the user; everything else is the library's. Usage: node jmondi_peer.mjs PORT_FILE
// [KEY_FILE] (listens on 127.0.0.1:0 and writes its base URL to PORT_FILE, and its private
// signing key as a JWK to KEY_FILE, for txlab's --issuer-key). Test peer only.
import http from "node:http";
import crypto from "node:crypto";
import fs from "node:fs";
import jwt from "jsonwebtoken";
import { AuthorizationServer, DateInterval, OAuthException } from "@jmondi/oauth2-server";
import { requestFromVanilla, responseToVanilla, handleVanillaError } from "@jmondi/oauth2-server/vanilla";

const TE = "urn:ietf:params:oauth:grant-type:token-exchange";
const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
const kid = "jmondi-peer-1";
let issuer = "";

// The library's JwtInterface, with an asymmetric key instead of its default shared secret.
const jwtService = {
  verify: (token, options = {}) =>
    new Promise((resolve, reject) =>
      jwt.verify(token, publicKey, { algorithms: ["ES256"], issuer, ...options }, (err, decoded) => (decoded ? resolve(decoded) : reject(err))),
    ),
  decode: (token) => jwt.decode(token),
  sign: (payload) =>
    new Promise((resolve, reject) =>
      jwt.sign(payload, privateKey, { algorithm: "ES256", keyid: kid }, (err, encoded) => (encoded ? resolve(encoded) : reject(err))),
    ),
};

const scopes = ["read", "write", "admin"].map((name) => ({ name }));
const clients = {
  "jm-exchanger": { secret: "exchanger-secret", grants: ["client_credentials", TE], scopes },
  "jm-subject": { secret: "subject-secret", grants: ["client_credentials"], scopes: [{ name: "read" }, { name: "write" }] },
  "jm-reader": { secret: "reader-secret", grants: ["client_credentials"], scopes: [{ name: "read" }] },
};
const clientRepository = {
  async getByIdentifier(id) {
    const c = clients[id];
    if (!c) throw OAuthException.invalidClient("unknown client");
    return { id, name: id, secret: c.secret, redirectUris: [], allowedGrants: c.grants, scopes: c.scopes };
  },
  async isClientValid(grantType, client, clientSecret) {
    return client.secret === clientSecret && client.allowedGrants.includes(grantType);
  },
};
const tokens = new Map();
const tokenRepository = {
  async issueToken(client, tokenScopes, user) {
    return {
      accessToken: crypto.randomUUID(),
      accessTokenExpiresAt: new DateInterval("1h").getEndDate(),
      client,
      user,
      scopes: tokenScopes,
    };
  },
  async issueRefreshToken(token) { return token; },
  async persist(token) { tokens.set(token.accessToken, token); },
  async revoke(token) { tokens.delete(token.accessToken); },
  async isRefreshTokenRevoked() { return true; },
  async getByRefreshToken() { throw new Error("no refresh tokens"); },
};
const scopeRepository = {
  async getAllByIdentifiers(names) { return scopes.filter((s) => names.includes(s.name)); },
  async finalize(requested) { return requested; },
};

let server;
function makeServer() {
  server = new AuthorizationServer(clientRepository, tokenRepository, scopeRepository, jwtService, { requiresPKCE: false, issuer });
  server.enableGrantType({
    grant: TE,
    // The minimal exchange callback: verify the subject token (signature, iss, exp), take its
    // subject; an unverifiable token is invalid_grant.
    processTokenExchange: async ({ subjectToken }) => {
      try {
        const claims = await jwtService.verify(subjectToken);
        return { id: claims.sub };
      } catch (e) {
        throw OAuthException.invalidGrant(`subject_token: ${e.message}`);
      }
    },
  });
}

const httpServer = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const url = `${issuer}${req.url}`;
  const send = (status, json, headers = {}) => {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify(json));
  };
  if (req.method === "GET" && req.url.startsWith("/.well-known/")) {
    return send(200, { issuer, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, grant_types_supported: ["client_credentials", TE] });
  }
  if (req.method === "GET" && req.url === "/jwks") {
    return send(200, { keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "ES256", use: "sig" }] });
  }
  if (req.method !== "POST" || req.url !== "/token") return send(404, { error: "not_found" });
  let out;
  try {
    const request = new Request(url, { method: "POST", headers: req.headers, body });
    out = responseToVanilla(await server.respondToAccessTokenRequest(await requestFromVanilla(request)));
  } catch (e) {
    out = responseToVanilla(handleVanillaError(e));
  }
  const headers = {};
  out.headers.forEach((v, k) => (headers[k] = v));
  res.writeHead(out.status, headers);
  res.end(await out.text());
});
httpServer.listen(0, "127.0.0.1", () => {
  issuer = `http://127.0.0.1:${httpServer.address().port}`;
  makeServer();
  if (process.argv[3])
    fs.writeFileSync(process.argv[3], JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid, alg: "ES256" }), { mode: 0o600 });
  fs.writeFileSync(process.argv[2], issuer + "\n");
});
