// A third-party RFC 8693 implementation for `make test`: @jmondi/oauth2-server (npm, pinned by
// package-lock.json) with the integrator's callback per the library's documentation
// (tsoauth2server.com "Token Exchange Grant": "You must write your own processTokenExchange
// function"; the library parses the request and hands the callback resource, audience, scopes,
// requestedTokenType, subjectToken, subjectTokenType, actorToken and actorTokenType, and issues
// whatever the callback returns). Everything below the callback — client authentication, request
// parsing, the parameter checks it makes itself, error responses, the response members — is the
// library's, so a grade of this peer is the library's unless it concerns something this
// callback does. The HTTP glue (discovery, JWKS, POST /token routed by path to the library's
// vanilla adapter the way its docs show) is the harness's.
//
// What the integrator's code here does (and nothing more):
//  - processTokenExchange (the callback):
//    * subject_token_type and actor_token_type must be access_token or jwt (both name this
//      server's own JWTs); any other value is invalid_request. requested_token_type may be
//      absent or access_token (the library can only issue access tokens); anything else is
//      invalid_request. A parameter sent empty counts as omitted (RFC 6749 §3.2).
//    * the subject token is verified with this server's own key: signature (ES256 only), iss =
//      this server's issuer URL, exp (required) and nbf (no leeway), and aud must contain the
//      issuer URL (subject tokens are addressed to this server, where they are exchanged). A
//      token that fails any check is invalid_request (RFC 8693 §2.2.2), as is one whose act
//      chain is deeper than MAX_ACT_DEPTH. sub is not required: the library issues
//      client_credentials tokens (this deployment's subject tokens) without one.
//    * an actor token, when present, is verified the same way; the issued token then names the
//      actor in act (its sub, or client_id for a client-only token), with the subject token's own
//      act, if any, nested inside (RFC 8693 §4.1). Without an actor token the exchange is
//      impersonation: no act.
//    * audience policy: every audience and resource value must be api://jm (the only target the
//      exchanger may obtain); anything else is refused with invalid_request, the closest code the
//      library has (its ErrorType has no invalid_target). The issued token's aud is api://jm.
//    * scope policy: a requested scope the subject token does not hold is invalid_scope; so the
//      issued scope is the requested scope, always within the subject token's (nothing asked,
//      nothing granted: the scope repository is not told the subject token's scope).
//    * the returned user is the subject token's sub (absent stays absent: the library issues
//      client_credentials tokens without sub) with the target and act for extraTokenFields.
//  - the repositories, as the library's docs and its own tests write them: isClientValid checks
//    the secret and the client's allowed grants; finalize refuses scopes the client is not
//    registered for (the library's guardAgainstInvalidClientScopes) and gives a
//    client_credentials request without scope the client's registered scopes.
//  - the JwtInterface signs with an ES256 key instead of the default shared secret, and
//    extraTokenFields (the documented hook for extra claims) adds client_id (as the library's
//    own token-exchange test does), aud = the issuer URL for client_credentials tokens (they are
//    the subject tokens), and aud/act from the callback's user for exchanged tokens. It sets aud
//    itself because the library otherwise copies audience (or aud), query string first, into
//    the token on its own, whatever it handed the callback (only the body's audience).
//
// Usage: node jmondi_peer.mjs PORT_FILE [KEY_FILE] (listens on 127.0.0.1:0 and writes its base
// URL to PORT_FILE, and its private signing key as a JWK to KEY_FILE, for txlab's --issuer-key).
// Test peer only.
import http from "node:http";
import crypto from "node:crypto";
import fs from "node:fs";
import jwt from "jsonwebtoken";
import { AuthorizationServer, DateInterval, OAuthException, guardAgainstInvalidClientScopes } from "@jmondi/oauth2-server";
import { requestFromVanilla, responseToVanilla, handleVanillaError } from "@jmondi/oauth2-server/vanilla";

const TE = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token";
const JWT = "urn:ietf:params:oauth:token-type:jwt";
const TOKEN_TYPES = [ACCESS_TOKEN, JWT]; // what this server can verify: its own JWTs
const TARGET = "api://jm"; // the one target the exchanger may obtain tokens for
const MAX_ACT_DEPTH = 4;
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
  // The documented hook for extra claims. A token without a user is a client_credentials token:
  // the subject (and actor) tokens of this deployment, addressed to this server. An exchanged
  // token carries the target and the act the callback settled on.
  extraTokenFields: ({ user, client }) => ({
    client_id: client.id,
    ...(user ? { aud: user.audience, ...(user.act && { act: user.act }) } : { aud: issuer }),
  }),
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
  async finalize(requested, grantType, client) {
    guardAgainstInvalidClientScopes(client, requested);
    if (grantType === "client_credentials" && requested.length === 0) return client.scopes;
    return requested;
  },
};

// RFC 6749 §3.2: a parameter sent without a value is treated as omitted (the library passes it on).
const given = (v) => v !== undefined && v !== "";
const asList = (v) => (Array.isArray(v) ? v : [v]).filter(given);
const actDepth = (act) => {
  let n = 0;
  for (let a = act; a && typeof a === "object"; a = a.act) n++;
  return n;
};

// A subject or actor token: one of this server's own JWTs, addressed to this server.
async function verifyToken(param, token, type) {
  if (!TOKEN_TYPES.includes(type))
    throw OAuthException.invalidParameter(`${param}_type`, `unsupported ${param}_type: this server exchanges only its own JWTs (${TOKEN_TYPES.join(", ")})`);
  let claims;
  try {
    claims = await jwtService.verify(token, { audience: issuer });
  } catch (e) {
    // The verifier's message, kept within RFC 6749 §5.2's error_description character set (the
    // library sends the integrator's text as it is).
    throw OAuthException.invalidParameter(param, `${param}: ${e.message.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, "'")}`);
  }
  // jsonwebtoken checks exp only when present; every token this server issues has one.
  if (typeof claims.exp !== "number") throw OAuthException.invalidParameter(param, `${param}: no exp`);
  if (claims.act !== undefined && (typeof claims.act !== "object" || actDepth(claims.act) > MAX_ACT_DEPTH))
    throw OAuthException.invalidParameter(param, `${param}: act chain deeper than ${MAX_ACT_DEPTH} or malformed`);
  return claims;
}

// The integrator's processTokenExchange.
async function processTokenExchange({ resource, audience, scopes: requested, requestedTokenType, subjectToken, subjectTokenType, actorToken, actorTokenType }) {
  if (given(requestedTokenType) && requestedTokenType !== ACCESS_TOKEN)
    throw OAuthException.invalidParameter("requested_token_type", `only ${ACCESS_TOKEN} is issued`);
  const subject = await verifyToken("subject_token", subjectToken, subjectTokenType);
  const actor = given(actorToken) ? await verifyToken("actor_token", actorToken, actorTokenType) : undefined;

  for (const [param, value] of [["audience", audience], ["resource", resource]])
    for (const target of asList(value))
      if (target !== TARGET) throw OAuthException.invalidParameter(param, `${param} is not a target this client may obtain (only ${TARGET})`);

  const held = new Set(typeof subject.scope === "string" ? subject.scope.split(" ").filter(Boolean) : []);
  const beyond = requested.map((s) => s.name).filter((s) => !held.has(s));
  if (beyond.length > 0) throw OAuthException.invalidScope(beyond.join(" "));

  const act = actor && {
    ...(actor.sub !== undefined ? { sub: actor.sub } : { client_id: actor.client_id ?? actor.cid }),
    ...(subject.act && { act: subject.act }),
  };
  return { id: subject.sub, audience: TARGET, ...(act && { act }) };
}

let server;
function makeServer() {
  server = new AuthorizationServer(clientRepository, tokenRepository, scopeRepository, jwtService, { requiresPKCE: false, issuer });
  server.enableGrantType({ grant: TE, processTokenExchange });
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
  // Routed on the path, as a framework would: a query string is the library's to read or ignore.
  if (req.method !== "POST" || new URL(url).pathname !== "/token") return send(404, { error: "not_found" });
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
