// A real OpenID Connect provider for openhost's tests: the certified `oidc-provider` package, with
//
// - two confidential clients: `openhost-rs` (ID tokens signed RS256) and `openhost-es` (ES256), PKCE required;
// - no login page: an interaction signs in the user set by `GET /test/next-user?sub=..&login=..` and grants
//   the scopes asked for, so a test can walk the browser's redirects without HTML;
// - `GET /test/mode?mode=..`: how the next token responses' ID tokens are tampered with, to prove the relying
//   party refuses them: `forged` (signed by a key the provider never published, under a published kid),
//   `expired`, `wrong-audience`, `wrong-nonce`, `wrong-issuer`, `none` (alg none), `rotated` (signed by a new
//   key that the JWKS publishes from now on), or `` (untouched);
// - Keycloak's broker endpoint `GET /broker/github/token` (Authorization: Bearer <access token>), answering the
//   stored GitHub token in Keycloak's form (`access_token=...&token_type=bearer&scope=...`).
//
// Environment: REDIRECT_URI (the relying party's callback), GITHUB_TOKEN (what the broker hands out),
// ACCESS_TOKEN_TTL (seconds, default 3600).
// Prints `listening on http://127.0.0.1:PORT` once it serves.

import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const redirectUri = process.env.REDIRECT_URI;
const githubToken = process.env.GITHUB_TOKEN ?? 'gho_test';
if (!redirectUri) {
  console.error('REDIRECT_URI is required');
  process.exit(2);
}

async function signingKey(alg, kid) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg, use: 'sig' };
}
const published = [await signingKey('RS256', 'rsa-1'), await signingKey('ES256', 'ec-1')];
const forger = { RS256: await signingKey('RS256', 'rsa-1'), ES256: await signingKey('ES256', 'ec-1') };
const rotated = { RS256: await signingKey('RS256', 'rsa-2'), ES256: await signingKey('ES256', 'ec-2') };
const publicOf = ({ d, p, q, dp, dq, qi, ...rest }) => rest;

let mode = '';
let nextUser = { sub: 'alice', login: 'alice' };
let rotatedPublished = false;
const users = new Map();

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const client = (id, alg) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  redirect_uris: [redirectUri],
  post_logout_redirect_uris: [redirectUri.replace(/\/oauth\/.*$/, '/')],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  id_token_signed_response_alg: alg,
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(issuer, {
  clients: [client('openhost-rs', 'RS256'), client('openhost-es', 'ES256')],
  jwks: { keys: published },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'] },
  conformIdTokenClaims: false,
  issueRefreshToken: async () => true,
  ttl: { AccessToken: Number(process.env.ACCESS_TOKEN_TTL ?? 3600), IdToken: 3600, RefreshToken: 86400, Interaction: 600, Session: 3600, Grant: 86400 },
  cookies: { keys: ['openhost-test-cookie-key'] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => {
      const user = users.get(sub) ?? { login: sub };
      return { sub, preferred_username: user.login, name: user.login, email: `${user.login}@example.com` };
    },
  }),
});

// Tampering with the token endpoint's ID tokens, and publishing the rotated key.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/jwks' && rotatedPublished && ctx.body?.keys) {
    ctx.body = { keys: [...ctx.body.keys, publicOf(rotated.RS256), publicOf(rotated.ES256)] };
  }
  if (ctx.path === '/token' && mode && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token) };
  }
});

async function tamper(idToken) {
  const header = jose.decodeProtectedHeader(idToken);
  const claims = jose.decodeJwt(idToken);
  const alg = header.alg;
  const own = published.find((key) => key.kid === header.kid);
  let key = own;
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case 'forged': key = forger[alg]; break;
    case 'expired': claims.iat = now - 7200; claims.exp = now - 3600; break;
    case 'wrong-audience': claims.aud = 'someone-else'; break;
    case 'wrong-nonce': claims.nonce = 'not-the-nonce'; break;
    case 'wrong-issuer': claims.iss = 'https://issuer.example'; break;
    case 'rotated': key = rotated[alg]; rotatedPublished = true; break;
    case 'none': {
      const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    }
    default: break;
  }
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg, kid: key.kid, typ: 'JWT' })
    .sign(await jose.importJWK(key, alg));
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname === '/test/mode') {
      mode = url.searchParams.get('mode') ?? '';
      return res.end('ok');
    }
    if (url.pathname === '/test/next-user') {
      nextUser = { sub: url.searchParams.get('sub'), login: url.searchParams.get('login') };
      users.set(nextUser.sub, { login: nextUser.login });
      return res.end('ok');
    }
    if (url.pathname.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      let result;
      if (details.prompt.name === 'login') {
        result = { login: { accountId: nextUser.sub } };
      } else {
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
        grant.addOIDCScope(details.params.scope);
        result = { consent: { grantId: await grant.save() } };
      }
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    if (url.pathname === '/broker/github/token' && req.method === 'GET') {
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer /i, '');
      const token = bearer && (await provider.AccessToken.find(bearer));
      if (!token) {
        res.statusCode = 401;
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ error: 'invalid_token' }));
      }
      res.setHeader('content-type', 'text/plain');
      return res.end(`access_token=${githubToken}&token_type=bearer&scope=repo`);
    }
    return callback(req, res);
  } catch (error) {
    console.error(error);
    res.statusCode = 500;
    return res.end(String(error));
  }
});

console.log(`listening on ${issuer}`);
