import { api } from './api';
import type { T } from './i18n';
import type { Status } from './state';

/** Outside is a provider the console signs in with by sending the browser to it. */
export type Outside = 'github' | 'oidc' | 'lark';

/** OUTSIDE_NAMES are what the console calls each provider (WeChat's too, which signs in by a code instead). */
export const OUTSIDE_NAMES: Record<Outside | 'wechat', string> = { github: 'GitHub', oidc: 'OpenID Connect', lark: 'Lark', wechat: 'WeChat' };

/** outsideName is the provider's name in the console's language: WeChat and Lark go by their Chinese names (微信, 飞书) in Chinese. */
export function outsideName(provider: Outside | 'wechat', t: T): string {
  switch (provider) {
    case 'wechat':
      return t('WeChat');
    case 'lark':
      return t('Lark');
    default:
      return OUTSIDE_NAMES[provider];
  }
}

/** BOUND_ID is the user field that holds each provider's id for the account bound to it ('' unbound). */
export const BOUND_ID = { github: 'github_id', oidc: 'oidc_id', lark: 'lark_id', wechat: 'wechat_id' } as const;

/** OUTSIDE_ORDER is the order the sign-in buttons and settings cards go in. */
export const OUTSIDE_ORDER: Outside[] = ['github', 'oidc', 'lark'];

/** outsideEnabled says whether the server offers sign-in with provider. */
export function outsideEnabled(status: Status, provider: Outside): boolean {
  switch (provider) {
    case 'github':
      return !!status.github_oauth;
    case 'oidc':
      return !!status.oidc;
    case 'lark':
      return !!status.lark_client_id;
  }
}

/**
 * larkAuthorizeURL is Lark's authorize page for state, as One API sends
 * the browser there: redirect_uri, app_id and state on Feishu's (or the
 * server's LARK_URL's) /open-apis/authen/v1/index.
 */
export function larkAuthorizeURL(status: Status, state: string, origin: string): string {
  const base = status.lark_authorize_url || 'https://open.feishu.cn/open-apis/authen/v1/index';
  const redirect = status.lark_redirect_uri || `${(status.server_address || origin).replace(/\/+$/, '')}/oauth/lark`;
  const q = new URLSearchParams({ redirect_uri: redirect, app_id: status.lark_client_id ?? '', state });
  return `${base}?${q}`;
}

/**
 * startOutside sends the browser to the provider's authorize page with a
 * fresh state from GET /api/oauth/state. The provider sends it back to
 * this console's /oauth/<provider> (pages/OAuthCallback.tsx), which signs
 * in, or binds the outside account to the one already signed in.
 */
export async function startOutside(status: Status, provider: Outside): Promise<void> {
  const state = String(await api<string>('GET', '/api/oauth/state'));
  if (provider === 'github') {
    const base = status.github_authorize_url || 'https://github.com/login/oauth/authorize';
    const q = new URLSearchParams({ client_id: status.github_client_id ?? '', state, scope: 'user:email' });
    window.location.assign(`${base}?${q}`);
    return;
  }
  if (provider === 'lark') {
    window.location.assign(larkAuthorizeURL(status, state, window.location.origin));
    return;
  }
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: status.oidc_client_id ?? '',
    redirect_uri: status.oidc_redirect_uri ?? `${window.location.origin}/oauth/oidc`,
    scope: 'openid profile email',
    state,
  });
  const base = status.oidc_authorization_endpoint ?? '';
  window.location.assign(`${base}${base.includes('?') ? '&' : '?'}${q}`);
}

/** MAX_WECHAT_CODE is the longest verification code the server takes. */
export const MAX_WECHAT_CODE = 32;

/**
 * wechatPath is the call a WeChat verification code goes to: sign in
 * (GET /api/oauth/wechat), or bind WeChat to the signed-in account
 * (GET /api/oauth/wechat/bind).
 */
export function wechatPath(code: string, bind: boolean): string {
  const q = new URLSearchParams({ code: code.trim() });
  return `/api/oauth/wechat${bind ? '/bind' : ''}?${q}`;
}
