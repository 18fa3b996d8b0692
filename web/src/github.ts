import { api } from './api';
import type { Status } from './state';

/**
 * startGitHub sends the browser to GitHub's authorize page with a fresh
 * state from GET /api/oauth/state. GitHub sends it back to the OAuth app's
 * callback, this console's /oauth/github (pages/OAuthGitHub.tsx), which
 * signs in, or binds GitHub to the account already signed in.
 */
export async function startGitHub(status: Status): Promise<void> {
  const state = await api<string>('GET', '/api/oauth/state');
  const base = status.github_authorize_url || 'https://github.com/login/oauth/authorize';
  const q = new URLSearchParams({ client_id: status.github_client_id ?? '', state: String(state), scope: 'user:email' });
  window.location.assign(`${base}?${q}`);
}
