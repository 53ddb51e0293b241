// Sign-in for the platform's own pages: OpenID Connect authorization code flow with PKCE (S256) against the
// platform's provider, access token kept in this tab (sessionStorage) and refreshed before it expires.
//
//   const auth = await IprSignIn.start({ configUrl: "/console/config" });  // {issuer, client_id, audience}
//   fetch(url, { headers: { Authorization: `Bearer ${await auth.token()}` } });
//   auth.user  -> { sub, name, role, offices, holder_id }     auth.signOut()
"use strict";
(function () {
  const KEY = "ipr-signin";
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const random = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));
  const sha256 = async (text) => b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  const claimsOf = (jwt) => {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(decodeURIComponent(escape(atob(part))));
    } catch (e) { return {}; }
  };
  const load = () => JSON.parse(sessionStorage.getItem(KEY) || "{}");
  const save = (state) => sessionStorage.setItem(KEY, JSON.stringify(state));

  async function start({ configUrl, redirectUri = location.origin + location.pathname, lang } = {}) {
    const config = await (await fetch(configUrl)).json();
    const meta = await (await fetch(`${config.issuer}/.well-known/openid-configuration`)).json();
    let state = load();

    async function tokenRequest(params) {
      const res = await fetch(meta.token_endpoint, {
        method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: config.client_id, ...params }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error_description || body.error || `token endpoint answered ${res.status}`);
      state = { ...state, access_token: body.access_token, refresh_token: body.refresh_token || state.refresh_token,
                id_token: body.id_token || state.id_token, expires_at: Date.now() + (body.expires_in || 300) * 1000 };
      delete state.verifier; delete state.expect;
      save(state);
    }

    async function signIn() {
      const verifier = random(48);
      const expect = random(16);
      save({ verifier, expect, back: location.href });
      const url = new URL(meta.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: "code", client_id: config.client_id, redirect_uri: redirectUri, scope: "openid profile api",
        resource: config.audience, state: expect, nonce: random(16), code_challenge: await sha256(verifier),
        code_challenge_method: "S256", ...(lang ? { ui_locales: lang } : {}),
      }).toString();
      location.assign(url.toString());
      return new Promise(() => {});  // the page is leaving
    }

    const query = new URLSearchParams(location.search);
    if (query.get("code") && state.verifier && query.get("state") === state.expect) {
      await tokenRequest({ grant_type: "authorization_code", code: query.get("code"), redirect_uri: redirectUri,
                           code_verifier: state.verifier });
      history.replaceState(null, "", redirectUri);
    } else if (query.get("error")) {
      history.replaceState(null, "", redirectUri);
      throw new Error(`sign-in refused: ${query.get("error_description") || query.get("error")}`);
    }

    async function token() {
      if (!state.access_token) return signIn();
      if (Date.now() > state.expires_at - 30_000) {
        try {
          await tokenRequest({ grant_type: "refresh_token", refresh_token: state.refresh_token });
        } catch (e) {
          sessionStorage.removeItem(KEY);
          return signIn();
        }
      }
      return state.access_token;
    }

    function signOut() {
      const idToken = state.id_token;
      sessionStorage.removeItem(KEY);
      const url = new URL(meta.end_session_endpoint);
      url.search = new URLSearchParams({ client_id: config.client_id, post_logout_redirect_uri: redirectUri,
                                         ...(idToken ? { id_token_hint: idToken } : {}) }).toString();
      location.assign(url.toString());
    }

    if (!state.access_token) await signIn();
    return { token, signOut, signIn, get user() { return claimsOf(state.access_token || ""); } };
  }

  window.IprSignIn = { start };
})();
