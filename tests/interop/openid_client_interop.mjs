// Drives txlab's built-in AS with openid-client (an independent OAuth client library):
// client_credentials, then RFC 8693 token exchange through its generic grant request, with
// client_secret_basic as openid-client encodes it ('-' sent as %2D, RFC 6749 §2.3.1).
// usage: node openid_client_interop.mjs AS_BASE_URL
import * as client from 'openid-client';

const base = process.argv[2];
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

const meta = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json();
const config = (id, secret) => {
  const c = new client.Configuration(meta, id, undefined, client.ClientSecretBasic(secret));
  client.allowInsecureRequests(c);  // loopback http
  return c;
};

const subject = await client.clientCredentialsGrant(config('x-svc-subject-to-exchanger', 'subject-secret'), {});
if (!subject.access_token) fail('no access_token from client_credentials');
if (subject.token_type !== 'bearer') fail(`token_type ${subject.token_type}`);

const exchanged = await client.genericGrantRequest(
  config('x-svc-exchanger-to-api', 'exchanger-secret'),
  'urn:ietf:params:oauth:grant-type:token-exchange',
  {
    subject_token: subject.access_token,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience: 'api://x',
  });
if (exchanged.issued_token_type !== 'urn:ietf:params:oauth:token-type:access_token') fail(`issued_token_type ${exchanged.issued_token_type}`);
const c = claims(exchanged.access_token);
if (c.sub !== 'x-svc-subject-to-exchanger') fail(`sub ${c.sub}`);
if (c.act?.sub !== 'x-svc-exchanger-to-api') fail(`act ${JSON.stringify(c.act)}`);
if (c.aud !== 'api://x') fail(`aud ${JSON.stringify(c.aud)}`);

// A wrong secret is a 401 invalid_client that openid-client surfaces as such.
try {
  await client.clientCredentialsGrant(config('x-svc-subject-to-exchanger', 'wrong'), {});
  fail('wrong secret accepted');
} catch (e) {
  // openid-client reports a 401 with WWW-Authenticate as a challenge error; the body still
  // carries error=invalid_client (RFC 6749 §5.2).
  const body = e.response ? await e.response.clone().json().catch(() => ({})) : {};
  const code = e.error ?? body.error;
  if (e.status !== 401 || code !== 'invalid_client') fail(`wrong secret: ${e.status} ${code} ${e.code} ${e.message}`);
  if (e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' && e.cause?.[0]?.scheme !== 'basic') fail(`challenge ${JSON.stringify(e.cause)}`);
}
console.log(`openid-client interop OK: act=${JSON.stringify(c.act)} scope=${exchanged.scope ?? c.scope}`);
