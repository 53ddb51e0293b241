// PostgreSQL state of the provider: the oidc-provider adapter (table oidc_payloads), accounts and clients.
// The tables belong to the identity service and are created by its migrations (services/identity/migrations).

import crypto from 'node:crypto';
import { promisify } from 'node:util';

import pg from 'pg';

const scrypt = promisify(crypto.scrypt);

export function createPool(url) {
  const pool = new pg.Pool({ connectionString: url, max: 10, idleTimeoutMillis: 30_000 });
  pool.on('error', (err) => console.error('identity: idle database connection failed:', err.message));
  return pool;
}

// ---------------------------------------------------------------- secrets

// Passwords: scrypt$N$r$p$salt$hash (base64url), written by services/identity/passwords.py.
export async function verifyPassword(password, stored) {
  const parts = String(stored || '').split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, 'base64url');
  const N = Number(n);
  const R = Number(r);
  const derived = await scrypt(String(password), Buffer.from(salt, 'base64url'), expected.length, {
    N, r: R, p: Number(p), maxmem: 256 * N * R + 1024 * 1024,
  });
  return crypto.timingSafeEqual(derived, expected);
}

// Client secrets are long random values: a SHA-256 digest is enough to keep them unreadable at rest.
export function verifyClientSecret(secret, stored) {
  const parts = String(stored || '').split('$');
  if (parts.length !== 2 || parts[0] !== 'sha256' || typeof secret !== 'string') return false;
  const digest = crypto.createHash('sha256').update(secret).digest();
  const expected = Buffer.from(parts[1], 'hex');
  return expected.length === digest.length && crypto.timingSafeEqual(digest, expected);
}

// ---------------------------------------------------------------- accounts

const ACCOUNT_SQL = `
  SELECT a.account_id, a.display_name, a.email, a.role, a.offices, a.holder_id, a.party_id, a.case_id,
         a.locale, a.password_hash, a.enabled,
         h.enabled AS holder_enabled, h.verified AS holder_verified, h.name AS holder_name
    FROM accounts a LEFT JOIN holders h ON h.holder_id = a.holder_id
   WHERE a.account_id = $1`;

// Why an account may not act now (null when it may).
export function refusal(row) {
  if (!row) return 'unknown';
  if (!row.enabled) return 'disabled';
  if (row.role === 'rights_holder' && !(row.holder_verified && row.holder_enabled)) return 'holder_not_enabled';
  return null;
}

export async function loadAccount(pool, accountId) {
  const { rows } = await pool.query(ACCOUNT_SQL, [String(accountId).slice(0, 64)]);
  return rows[0];
}

// The platform claims of an account, as access tokens carry them.
export function accountClaims(row) {
  const claims = { role: row.role, name: row.display_name };
  if (row.offices?.length) claims.offices = row.offices;
  if (row.holder_id) claims.holder_id = row.holder_id;
  if (row.party_id) claims.party_id = row.party_id;
  if (row.case_id) claims.case_id = row.case_id;
  return claims;
}

// ---------------------------------------------------------------- case access codes

// services/identity/case_access.py issues the codes; this is where they are exchanged for tokens.
export const CASE_ACCESS_GRANT = 'urn:ipr:params:oauth:grant-type:case-access-code';
export const CASE_ACCESS_PREFIX = 'case-access:';

export function caseAccessDigest(code) {
  const cleaned = String(code).toUpperCase().replace(/[^0-9A-Z]/g, '')
    .replace(/O/g, '0').replace(/[IL]/g, '1');
  return `sha256$${crypto.createHash('sha256').update(cleaned).digest('hex')}`;
}

// A code that may be exchanged now (not revoked, not expired), counting this use; undefined otherwise.
export async function useCaseAccess(pool, code) {
  const { rows } = await pool.query(
    `UPDATE case_access SET uses = uses + 1, last_used_at = now()
      WHERE code_digest = $1 AND revoked_at IS NULL AND expires_at > now()
      RETURNING access_id, case_id, party_id, party_role, display_name, expires_at`,
    [caseAccessDigest(code)],
  );
  return rows[0];
}

// The claims of a token exchanged for a code, while the code stays valid (revoked: no new token).
export async function caseAccessClaims(pool, accessId) {
  const { rows } = await pool.query(
    `SELECT case_id, party_id, display_name FROM case_access
      WHERE access_id = $1 AND revoked_at IS NULL AND expires_at > now()`,
    [String(accessId).slice(0, 32)],
  );
  if (!rows.length) return undefined;
  const [row] = rows;
  return { role: 'party', name: row.display_name, party_id: row.party_id, case_id: row.case_id };
}

// ---------------------------------------------------------------- clients

export function clientMetadata(row, audience) {
  const common = {
    client_id: row.client_id,
    client_name: row.name,
    ipr_kind: row.kind,
    ipr_first_party: !!row.first_party,
    ipr_audience: audience,
  };
  if (row.kind === 'machine') {
    return {
      ...common,
      client_secret: row.secret_hash, // compared by verifyClientSecret, never used as a key
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      ipr_role: row.role,
      ipr_offices: row.offices || [],
    };
  }
  if (row.kind === 'case_access') {
    // Public: a party's code is its credential; the client only names the channel.
    return {
      ...common,
      token_endpoint_auth_method: 'none',
      grant_types: [CASE_ACCESS_GRANT],
      response_types: [],
      redirect_uris: [],
    };
  }
  const native = row.redirect_uris.every((u) => /^http:\/\/(127\.0\.0\.1|\[::1\])(\/|$)/.test(u));
  return {
    ...common,
    application_type: native ? 'native' : 'web',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: row.redirect_uris,
    post_logout_redirect_uris: row.post_logout_redirect_uris || [],
  };
}

// ---------------------------------------------------------------- the adapter

const epoch = (date) => (date ? Math.floor(date.getTime() / 1000) : undefined);

export function adapterFactory(pool, audience) {
  return class PostgresAdapter {
    constructor(model) {
      this.model = model;
    }

    async upsert(id, payload, expiresIn) {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      await pool.query(
        `INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, user_code, account_id, client_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
           uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, account_id = EXCLUDED.account_id,
           client_id = EXCLUDED.client_id, expires_at = EXCLUDED.expires_at`,
        [this.model, id, payload, payload.grantId ?? null, payload.uid ?? null, payload.userCode ?? null,
          payload.accountId ?? payload.session?.accountId ?? null, payload.clientId ?? null, expiresAt],
      );
    }

    async #findWhere(column, value) {
      if (this.model === 'Client') return undefined;
      const { rows } = await pool.query(
        `SELECT payload, consumed_at FROM oidc_payloads
          WHERE model = $1 AND ${column} = $2 AND (expires_at IS NULL OR expires_at > now())`,
        [this.model, value],
      );
      if (!rows.length) return undefined;
      const { payload, consumed_at: consumedAt } = rows[0];
      return consumedAt ? { ...payload, consumed: epoch(consumedAt) } : payload;
    }

    async find(id) {
      if (this.model === 'Client') {
        // Clients live in the identity database; a disabled one is unknown from the next request on.
        const { rows } = await pool.query('SELECT * FROM clients WHERE client_id = $1 AND enabled', [String(id).slice(0, 64)]);
        return rows.length ? clientMetadata(rows[0], audience) : undefined;
      }
      return this.#findWhere('id', id);
    }

    async findByUid(uid) {
      return this.#findWhere('uid', uid);
    }

    async findByUserCode(userCode) {
      return this.#findWhere('user_code', userCode);
    }

    async consume(id) {
      await pool.query('UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2', [this.model, id]);
    }

    async destroy(id) {
      await pool.query('DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [this.model, id]);
    }

    async revokeByGrantId(grantId) {
      await pool.query('DELETE FROM oidc_payloads WHERE grant_id = $1', [grantId]);
    }
  };
}

export async function purgeExpired(pool) {
  const { rowCount } = await pool.query(
    "DELETE FROM oidc_payloads WHERE expires_at < now() - interval '1 hour'",
  );
  return rowCount;
}
