import { api } from './api';
import type { Status } from './state';

/** Outside is a provider the console can sign in with. */
export type Outside = 'github' | 'oidc';

/** OUTSIDE_NAMES are what the console calls each provider. */
export const OUTSIDE_NAMES: Record<Outside, string> = { github: 'GitHub', oidc: 'OpenID Connect' };

/** outsideEnabled says whether the server offers sign-in with provider. */
export function outsideEnabled(status: Status, provider: Outside): boolean {
  return provider === 'github' ? !!status.github_oauth : !!status.oidc;
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
