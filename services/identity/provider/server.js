// The platform's OpenID provider: oidc-provider (OpenID-certified) with its state, accounts and clients in
// PostgreSQL, the platform's own RS256 keys and its own sign-in, consent and sign-out pages.
//
// Environment:
//   IDENTITY_ISSUER            issuer URL (what tokens carry as iss), e.g. http://127.0.0.1:8010
//   IDENTITY_HOST/PORT         where to listen (127.0.0.1 / port of the issuer URL)
//   IDENTITY_DB_URL            postgresql://... of the identity database
//   IDENTITY_JWKS_FILE         private JWKS (the first key signs; all are published), or IDENTITY_JWKS (JSON)
//   IDENTITY_COOKIE_KEYS       comma-separated secrets signing the provider's cookies (first signs)
//   IDENTITY_AUDIENCE          the API resource / audience of access tokens (urn:ipr:api)
//   IDENTITY_ACCESS_TOKEN_TTL  seconds, at most 300 (people and machines alike)
//   IDENTITY_REFRESH_TOKEN_TTL seconds (8 hours: one working day)
//   IDENTITY_TRUST_PROXY       "true" behind a TLS-terminating proxy (X-Forwarded-Proto/Host)
//   IDENTITY_CASE_ACCESS_HOLD_S seconds an address is held back after 5 wrong case access codes (60)

import fs from 'node:fs';

import Provider, { errors } from 'oidc-provider';

import {
  accountClaims, adapterFactory, CASE_ACCESS_GRANT, CASE_ACCESS_PREFIX, caseAccessClaims, createPool, loadAccount,
  purgeExpired, refusal, useCaseAccess, verifyClientSecret, verifyPassword,
} from './store.js';
import {
  consentPage, errorPage, language, loggedOutPage, loginPage, logoutPage,
} from './views.js';

const env = process.env;
const required = (name) => {
  if (!env[name]) {
    console.error(`identity: ${name} is required`);
    process.exit(2);
  }
  return env[name];
};

const ISSUER = required('IDENTITY_ISSUER').replace(/\/$/, '');
const AUDIENCE = env.IDENTITY_AUDIENCE || 'urn:ipr:api';
const API_SCOPE = 'api';
const ACCESS_TTL = Math.min(Number(env.IDENTITY_ACCESS_TOKEN_TTL || 300), 300);
const REFRESH_TTL = Number(env.IDENTITY_REFRESH_TOKEN_TTL || 8 * 3600);
const PORT = Number(env.IDENTITY_PORT || new URL(ISSUER).port || 8010);
const HOST = env.IDENTITY_HOST || '127.0.0.1';
const jwks = env.IDENTITY_JWKS ? JSON.parse(env.IDENTITY_JWKS)
  : JSON.parse(fs.readFileSync(required('IDENTITY_JWKS_FILE'), 'utf8'));
const cookieKeys = required('IDENTITY_COOKIE_KEYS').split(',').map((k) => k.trim()).filter(Boolean);
if (cookieKeys.some((k) => k.length < 16)) {
  console.error('identity: every IDENTITY_COOKIE_KEYS entry must be at least 16 characters');
  process.exit(2);
}

const pool = createPool(required('IDENTITY_DB_URL'));

// Failures per key (a user name; an address for case access codes): five within the window hold the key
// back for the rest of that window.
function throttle(windowMs) {
  const failures = new Map();
  return {
    windowMs,
    held(key) {
      const entry = failures.get(key);
      return !!entry && entry.count >= 5 && Date.now() - entry.first < windowMs;
    },
    failed(key) {
      const now = Date.now();
      const entry = failures.get(key);
      if (!entry || now - entry.first >= windowMs) failures.set(key, { first: now, count: 1 });
      else entry.count += 1;
      if (failures.size > 10_000) failures.clear();
    },
    forget(key) {
      failures.delete(key);
    },
  };
}
const signIns = throttle(60_000);
const codeExchanges = throttle(1000 * Number(env.IDENTITY_CASE_ACCESS_HOLD_S || 60));

const resourceServer = {
  scope: API_SCOPE,
  audience: AUDIENCE,
  accessTokenTTL: ACCESS_TTL,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: 'RS256' } },
};

const configuration = {
  adapter: adapterFactory(pool, AUDIENCE),
  jwks,
  cookies: {
    keys: cookieKeys,
    long: { httpOnly: true, sameSite: 'lax', signed: true },
    short: { httpOnly: true, sameSite: 'lax', signed: true },
  },
  clients: [],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
  // Browser pages (public clients) call the token endpoint from the origins of their own redirect URIs only.
  clientBasedCORS(ctx, origin, client) {
    return client.clientAuthMethod === 'none' && client.redirectUris.some((uri) => URL.parse(uri)?.origin === origin);
  },
  extraClientMetadata: { properties: ['ipr_kind', 'ipr_role', 'ipr_offices', 'ipr_first_party', 'ipr_audience'] },
  scopes: ['openid', 'profile', 'offline_access'],  // 'api' belongs to the resource server
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'locale'],
  },
  pkce: { required: () => true },
  responseTypes: ['code'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.type = 'html';
        ctx.body = logoutPage({ lang: language(ctx), form });
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = loggedOutPage({ lang: language(ctx) });
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => AUDIENCE,
      useGrantedResource: async () => true,
      async getResourceServerInfo(ctx, resourceIndicator) {
        if (resourceIndicator === AUDIENCE) return resourceServer;
        throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}; this issuer serves ${AUDIENCE}`);
      },
    },
  },
  ttl: {
    AccessToken: ACCESS_TTL,
    ClientCredentials: ACCESS_TTL,
    AuthorizationCode: 60,
    IdToken: ACCESS_TTL,
    Interaction: 30 * 60,
    Grant: REFRESH_TTL,
    Session: REFRESH_TTL,
    RefreshToken(ctx, token, client) {
      if (ctx?.oidc?.entities.RotatedRefreshToken && client.clientAuthMethod === 'none') {
        return ctx.oidc.entities.RotatedRefreshToken.remainingTTL;  // rotation never extends a working day
      }
      return REFRESH_TTL;
    },
  },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  async findAccount(ctx, sub) {
    // Called at sign-in, at every code exchange and at every refresh: a disabled account is refused there.
    const row = await loadAccount(pool, sub);
    if (refusal(row)) return undefined;
    return {
      accountId: row.account_id,
      async claims() {
        return {
          sub: row.account_id, name: row.display_name, preferred_username: row.account_id, locale: row.locale,
        };
      },
    };
  },
  async extraTokenClaims(ctx, token) {
    if (token.accountId?.startsWith(CASE_ACCESS_PREFIX)) {
      const claims = await caseAccessClaims(pool, token.accountId.slice(CASE_ACCESS_PREFIX.length));
      if (!claims) throw new errors.InvalidGrant('the case access code is expired or revoked');
      return claims;
    }
    if (token.accountId) {
      const row = await loadAccount(pool, token.accountId);
      const why = refusal(row);
      if (why) throw new errors.InvalidGrant(`account ${why}`);
      return accountClaims(row);
    }
    const client = ctx.oidc.client || await ctx.oidc.provider.Client.find(token.clientId);
    const claims = { role: client.ipr_role, name: client.clientName };
    if (client.ipr_offices?.length) claims.offices = client.ipr_offices;
    return claims;
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    if (ctx.oidc.client.ipr_first_party && ctx.oidc.account) {
      // The platform's own pages (console, administration): the person already agreed by signing in.
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.account.accountId,
      });
      grant.addOIDCScope('openid profile offline_access');
      grant.addResourceScope(AUDIENCE, API_SCOPE);
      await grant.save();
      return grant;
    }
    return undefined;
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = errorPage({ lang: language(ctx), error: out.error, description: out.error_description });
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  discovery: { ui_locales_supported: ['en', 'zh-Hans'] },
};

const provider = new Provider(ISSUER, configuration);
if (env.IDENTITY_TRUST_PROXY === 'true') provider.proxy = true;

// Client secrets are stored as digests (services/identity/passwords.py), never in clear.
provider.Client.prototype.compareClientSecret = function compareClientSecret(actual) {
  return verifyClientSecret(actual, this.clientSecret);
};

// ---------------------------------------------------------------- case access codes

// A party without an account exchanges the code an officer gave it (services/identity/case_access.py) for an
// access token of role party, bound to its case: 5 minutes, no refresh token, the code exchanged again
// while it is valid. Failed codes are throttled per client address like failed passwords per name.
provider.registerGrantType(CASE_ACCESS_GRANT, async (ctx) => {
  const code = String(ctx.oidc.params.access_code || '').slice(0, 64);
  if (!code) throw new errors.InvalidRequest('access_code is required');
  const { resource } = ctx.oidc.params;
  if (resource && resource !== AUDIENCE) {
    throw new errors.InvalidTarget(`unknown resource ${resource}; this issuer serves ${AUDIENCE}`);
  }
  const throttleKey = ctx.ip;
  if (codeExchanges.held(throttleKey)) {
    const seconds = String(Math.ceil(codeExchanges.windowMs / 1000));
    const held = new errors.CustomOIDCProviderError('slow_down',
      'too many wrong case access codes from this address; try again later');
    held.status = 429;
    held.statusCode = 429;
    held.headers = { 'retry-after': seconds };
    ctx.set('retry-after', seconds);
    throw held;
  }
  const access = await useCaseAccess(pool, code);
  if (!access) {
    codeExchanges.failed(throttleKey);
    throw new errors.CustomOIDCProviderError('invalid_grant', 'the case access code is unknown, expired or revoked');
  }
  codeExchanges.forget(throttleKey);
  const token = new provider.AccessToken({
    client: ctx.oidc.client,
    accountId: `${CASE_ACCESS_PREFIX}${access.access_id}`,
    gty: CASE_ACCESS_GRANT,
    scope: API_SCOPE,
  });
  token.resourceServer = resourceServer;
  ctx.oidc.entity('AccessToken', token);
  const value = await token.save();
  ctx.body = {
    access_token: value,
    token_type: token.tokenType,
    expires_in: token.expiration,
    scope: token.scope,
    case_id: access.case_id,
    party_id: access.party_id,
    code_expires_at: access.expires_at.toISOString(),
  };
}, ['access_code', 'resource']);

// ---------------------------------------------------------------- interaction pages

const MAX_FORM_BYTES = 16 * 1024;

async function readForm(ctx) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) ctx.throw(413, 'form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function html(ctx, body, status = 200) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  // No form-action: browsers apply it to the redirects after the form too, and the sign-in ends in a redirect
  // to the client's own address.
  ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    + "frame-ancestors 'none'; base-uri 'none'");
  ctx.body = body;
}

async function showLogin(ctx, details, extra = {}) {
  const client = await provider.Client.find(details.params.client_id);
  html(ctx, loginPage({
    lang: language(ctx, details.params), uid: details.uid, clientName: client?.clientName || details.params.client_id,
    ...extra,
  }));  // a refused sign-in is the same page again, with the reason
}

const routes = [
  ['GET', /^\/interaction\/([\w-]+)$/, async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name === 'login') return showLogin(ctx, details);
    const client = await provider.Client.find(details.params.client_id);
    const account = await loadAccount(pool, details.session.accountId);
    const scopes = String(details.params.scope || '').split(' ').filter(Boolean);
    return html(ctx, consentPage({
      lang: language(ctx, details.params), uid: details.uid, clientName: client?.clientName || details.params.client_id,
      accountName: account?.display_name || details.session.accountId, scopes,
    }));
  }],
  ['POST', /^\/interaction\/([\w-]+)\/login$/, async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name !== 'login') ctx.throw(400, 'no sign-in is pending');
    const form = await readForm(ctx);
    const username = (form.get('username') || '').trim().toLowerCase().slice(0, 64);
    const password = form.get('password') || '';
    if (signIns.held(username)) return showLogin(ctx, details, { username, error: 'throttled' });
    const row = username ? await loadAccount(pool, username) : undefined;
    // Verify even for unknown names, so timing does not tell which names exist.
    const ok = await verifyPassword(password, row?.password_hash
      || 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    if (!row || !ok) {
      signIns.failed(username);
      return showLogin(ctx, details, { username, error: 'badLogin' });
    }
    const why = refusal(row);
    if (why) return showLogin(ctx, details, { username, error: why === 'disabled' ? 'disabled' : 'holderNotEnabled' });
    signIns.forget(username);
    return provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: row.account_id, remember: false, amr: ['pwd'] },
    }, { mergeWithLastSubmission: false });
  }],
  ['POST', /^\/interaction\/([\w-]+)\/confirm$/, async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name !== 'consent') ctx.throw(400, 'no consent is pending');
    await readForm(ctx);
    const { prompt: { details: missing }, params, session: { accountId } } = details;
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(ctx.req, ctx.res, { consent: details.grantId ? {} : { grantId } },
      { mergeWithLastSubmission: true });
  }],
  ['GET', /^\/interaction\/([\w-]+)\/abort$/, async (ctx) => provider.interactionFinished(ctx.req, ctx.res, {
    error: 'access_denied', error_description: 'the person cancelled the sign-in',
  }, { mergeWithLastSubmission: false })],
  ['GET', /^\/healthz$/, async (ctx) => {
    await pool.query('SELECT 1');
    ctx.body = { status: 'ok', service: 'identity', issuer: ISSUER };
  }],
];

provider.use(async (ctx, next) => {
  const route = routes.find(([method, pattern]) => method === ctx.method && pattern.test(ctx.path));
  if (!route) return next();
  try {
    return await route[2](ctx);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      return html(ctx, errorPage({ lang: language(ctx), error: 'session_not_found',
        description: 'the sign-in took too long or the browser refused cookies; start again from the page you came from' }), 400);
    }
    if (ctx.path === '/healthz') {
      ctx.status = 503;
      ctx.body = { status: 'not_ready', error: err.message };
      return undefined;
    }
    throw err;
  }
});

provider.on('server_error', (ctx, err) => console.error('identity: server error', ctx.path, err));
provider.on('end_session.error', (ctx, err) => console.error('identity: sign-out refused:', err.message, err.cause?.message || ''));
provider.on('grant.error', (ctx, err) => {
  if (err.statusCode >= 500) console.error('identity: grant error', err);
});

const server = provider.listen(PORT, HOST, () => {
  console.log(`identity: OpenID provider ${ISSUER} listening on ${HOST}:${PORT}; signing key ${jwks.keys[0]?.kid}`);
});

const sweeper = setInterval(() => purgeExpired(pool).catch((e) => console.error('identity: purge failed', e.message)),
  10 * 60 * 1000);
sweeper.unref();

function shutdown(signal) {
  console.log(`identity: ${signal}, shutting down`);
  clearInterval(sweeper);
  server.close(() => pool.end().finally(() => process.exit(0)));
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
