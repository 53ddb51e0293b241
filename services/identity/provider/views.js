// The platform's own sign-in, consent, sign-out and error pages: plain, accessible HTML in English and
// Simplified Chinese (?lang=zh, the ui_locales parameter, or the browser's Accept-Language).

const TEXT = {
  en: {
    lang: 'en',
    platform: 'Customs IPR enforcement',
    signIn: 'Sign in',
    signInTo: 'Sign in to continue to',
    username: 'User name',
    password: 'Password',
    submit: 'Sign in',
    cancel: 'Cancel',
    badLogin: 'Unknown user name or wrong password.',
    disabled: 'This account is disabled. Ask your administrator.',
    holderNotEnabled: 'Your organisation is not (or no longer) verified and enabled by customs.',
    throttled: 'Too many failed attempts. Wait a minute and try again.',
    consentTitle: 'Allow access',
    consentLead: 'wants to act with your rights on the platform:',
    scopes: {
      openid: 'know who you are', profile: 'see your name', offline_access: 'stay signed in while you work',
      api: 'use the platform\'s services in your name (your role and offices)',
    },
    allow: 'Allow', deny: 'Deny',
    signedInAs: 'Signed in as',
    logoutTitle: 'Sign out',
    logoutQuestion: 'Do you want to sign out of the platform?',
    logoutYes: 'Yes, sign me out', logoutNo: 'No, stay signed in',
    loggedOut: 'You are signed out.',
    errorTitle: 'Sign-in problem',
    other: '中文',
  },
  zh: {
    lang: 'zh-Hans',
    platform: '海关知识产权保护',
    signIn: '登录',
    signInTo: '登录后继续使用',
    username: '用户名',
    password: '密码',
    submit: '登录',
    cancel: '取消',
    badLogin: '用户名不存在或密码错误。',
    disabled: '此账户已停用，请联系管理员。',
    holderNotEnabled: '贵单位尚未（或不再）经海关核实并启用。',
    throttled: '失败次数过多，请稍候一分钟再试。',
    consentTitle: '授权访问',
    consentLead: '请求以您的权限使用本平台：',
    scopes: {
      openid: '确认您的身份', profile: '查看您的姓名', offline_access: '在您工作期间保持登录',
      api: '以您的名义（您的角色和关区）使用平台服务',
    },
    allow: '允许', deny: '拒绝',
    signedInAs: '当前用户',
    logoutTitle: '退出登录',
    logoutQuestion: '确定要退出平台吗？',
    logoutYes: '是，退出', logoutNo: '否，保持登录',
    loggedOut: '您已退出登录。',
    errorTitle: '登录出现问题',
    other: 'English',
  },
};

export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

export function language(ctx, params = {}) {
  const wanted = [ctx.query?.lang, params.ui_locales, ctx.get?.('accept-language')].filter(Boolean).join(' ');
  return /(^|[\s,])zh/i.test(wanted) && !/^en/i.test(String(ctx.query?.lang || '')) ? 'zh' : 'en';
}

export function text(lang) {
  return TEXT[lang] || TEXT.en;
}

function page(t, title, body, lang) {
  const other = lang === 'zh' ? 'en' : 'zh';
  return `<!DOCTYPE html>
<html lang="${t.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)} · ${esc(t.platform)}</title>
<style>
  body { font: 16px/1.5 system-ui, "Noto Sans CJK SC", sans-serif; margin: 0; background: #f4f6f8; color: #1b1f23; }
  main { max-width: 26rem; margin: 4rem auto; background: #fff; padding: 2rem; border: 1px solid #d0d7de; border-radius: 6px; }
  h1 { font-size: 1.4rem; margin-top: 0; }
  label { display: block; font-weight: 600; margin-top: 1rem; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem;
    border: 1px solid #8c959f; border-radius: 4px; }
  input:focus, button:focus, a:focus { outline: 3px solid #0969da; outline-offset: 1px; }
  button { margin-top: 1.5rem; padding: .55rem 1.2rem; font-size: 1rem; border-radius: 4px; border: 1px solid #1f6feb;
    background: #1f6feb; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #1f6feb; margin-left: .5rem; }
  .error { color: #a40e26; background: #ffebe9; border: 1px solid #ff8182; padding: .5rem; border-radius: 4px; }
  .platform { color: #57606a; font-size: .9rem; }
  nav { text-align: right; font-size: .9rem; }
</style>
</head>
<body>
<main>
<nav><a href="?lang=${other}" lang="${other === 'zh' ? 'zh-Hans' : 'en'}">${esc(t.other)}</a></nav>
<p class="platform">${esc(t.platform)}</p>
${body}
</main>
</body>
</html>`;
}

export function loginPage({ lang, uid, clientName, username = '', error }) {
  const t = text(lang);
  const body = `
<h1 id="title">${esc(t.signIn)}</h1>
<p>${esc(t.signInTo)} <strong>${esc(clientName)}</strong></p>
${error ? `<p class="error" role="alert" id="error">${esc(t[error] || error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login?lang=${lang}" aria-labelledby="title" autocomplete="on">
  <label for="username">${esc(t.username)}</label>
  <input id="username" name="username" type="text" required autocomplete="username" autocapitalize="none"
         spellcheck="false" value="${esc(username)}" ${username ? '' : 'autofocus'}>
  <label for="password">${esc(t.password)}</label>
  <input id="password" name="password" type="password" required autocomplete="current-password" ${username ? 'autofocus' : ''}>
  <button type="submit" id="sign-in">${esc(t.submit)}</button>
  <a class="secondary" href="/interaction/${esc(uid)}/abort">${esc(t.cancel)}</a>
</form>`;
  return page(t, t.signIn, body, lang);
}

export function consentPage({ lang, uid, clientName, accountName, scopes }) {
  const t = text(lang);
  const items = scopes.map((s) => `<li>${esc(t.scopes[s] || s)}</li>`).join('');
  const body = `
<h1 id="title">${esc(t.consentTitle)}</h1>
<p>${esc(t.signedInAs)} <strong>${esc(accountName)}</strong></p>
<p><strong>${esc(clientName)}</strong> ${esc(t.consentLead)}</p>
<ul>${items}</ul>
<form method="post" action="/interaction/${esc(uid)}/confirm?lang=${lang}" aria-labelledby="title">
  <button type="submit" id="allow">${esc(t.allow)}</button>
  <a class="secondary" id="deny" href="/interaction/${esc(uid)}/abort">${esc(t.deny)}</a>
</form>`;
  return page(t, t.consentTitle, body, lang);
}

export function logoutPage({ lang, form }) {
  const t = text(lang);
  const body = `
<h1>${esc(t.logoutTitle)}</h1>
<p>${esc(t.logoutQuestion)}</p>
${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout" id="logout-yes">${esc(t.logoutYes)}</button>
<button class="secondary" type="submit" form="op.logoutForm" id="logout-no">${esc(t.logoutNo)}</button>`;
  return page(t, t.logoutTitle, body, lang);
}

export function loggedOutPage({ lang }) {
  const t = text(lang);
  return page(t, t.logoutTitle, `<h1>${esc(t.logoutTitle)}</h1><p role="status">${esc(t.loggedOut)}</p>`, lang);
}

export function errorPage({ lang, error, description }) {
  const t = text(lang);
  const body = `<h1>${esc(t.errorTitle)}</h1>
<p class="error" role="alert"><strong>${esc(error)}</strong>${description ? `: ${esc(description)}` : ''}</p>`;
  return page(t, t.errorTitle, body, lang);
}
