import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, onUnauthorized, ApiError } from './api';
import type { Limited } from './limits';

/** Status is what GET /api/status tells a console before anyone signs in. */
export interface Status {
  system_name?: string;
  logo?: string;
  footer_html?: string;
  version?: string;
  start_time?: number;
  turnstile_check?: boolean;
  turnstile_site_key?: string;
  email_verification?: boolean;
  register_enabled?: boolean;
  password_login_enabled?: boolean;
  password_register_enabled?: boolean;
  quota_per_unit?: number;
  display_in_currency?: boolean;
  server_address?: string;
  top_up_link?: string;
  chat_link?: string;
  github_oauth?: boolean;
  github_client_id?: string;
  github_authorize_url?: string;
  oidc?: boolean;
  oidc_client_id?: string;
  oidc_authorization_endpoint?: string;
  oidc_redirect_uri?: string;
  /** wechat_login: sign-in with WeChat (a verification code from the official account) is on. */
  wechat_login?: boolean;
  /** wechat_qrcode is the image URL of the official account's QR code. */
  wechat_qrcode?: string;
  /** lark_client_id is the Lark app's id; set means sign-in with Lark is on. */
  lark_client_id?: string;
  lark_authorize_url?: string;
  lark_redirect_uri?: string;
}

/** User is the signed-in account as GET /api/user/self returns it, with its limits (limits.ts). */
export interface User extends Limited {
  id: number;
  username: string;
  display_name?: string;
  role: number;
  status: number;
  email?: string;
  github_id?: string;
  oidc_id?: string;
  wechat_id?: string;
  lark_id?: string;
  quota: number;
  used_quota: number;
  request_count?: number;
  group?: string;
  aff_code?: string;
}

export const ROLE_COMMON = 1;
export const ROLE_ADMIN = 10;
export const ROLE_ROOT = 100;

interface AppState {
  status: Status;
  statusError: string;
  user: User | null;
  /** loading is true until the first session check has answered. */
  loading: boolean;
  refreshUser: () => Promise<User | null>;
  setUser: (u: User | null) => void;
  refreshStatus: () => Promise<void>;
  isAdmin: boolean;
  isRoot: boolean;
  /** fmtQuota renders a quota in units or in currency, as the options say. */
  fmtQuota: (q: number | undefined | null) => string;
}

const Ctx = createContext<AppState | null>(null);

/** AUTH_PAGES are the routes drawn for someone not signed in. */
const AUTH_PAGES = ['/login', '/register', '/reset', '/user/reset'];

export function AppProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>({});
  const [statusError, setStatusError] = useState('');
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(true);

  const refreshStatus = useCallback(async () => {
    try {
      const s = await api<Status>('GET', '/api/status');
      setStatus(s ?? {});
      setStatusError('');
      if (s?.system_name) document.title = s.system_name;
    } catch (e) {
      setStatusError((e as Error).message);
    }
  }, []);

  const refreshUser = useCallback(async () => {
    try {
      const u = await api<User>('GET', '/api/user/self');
      setUser(u);
      return u;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        setUser(null);
        return null;
      }
      throw e;
    }
  }, []);

  useEffect(() => {
    // The sign-in pages need no session check: asking /api/user/self there
    // only logs a 401 on every visit. They sign in and then load the user.
    const onAuthPage = AUTH_PAGES.includes(window.location.pathname);
    Promise.allSettled(onAuthPage ? [refreshStatus()] : [refreshStatus(), refreshUser()]).finally(() => setLoading(false));
  }, [refreshStatus, refreshUser]);

  useEffect(() => onUnauthorized(() => setUser(null)), []);

  const fmtQuota = useCallback(
    (q: number | undefined | null) => formatQuota(q, status.quota_per_unit, status.display_in_currency),
    [status.quota_per_unit, status.display_in_currency],
  );

  const value = useMemo<AppState>(
    () => ({
      status,
      statusError,
      user,
      loading,
      refreshUser,
      setUser,
      refreshStatus,
      isAdmin: (user?.role ?? 0) >= ROLE_ADMIN,
      isRoot: (user?.role ?? 0) >= ROLE_ROOT,
      fmtQuota,
    }),
    [status, statusError, user, loading, refreshUser, refreshStatus, fmtQuota],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useApp(): AppState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useApp outside AppProvider');
  return v;
}

/** formatQuota shows raw quota units, or dollars at quotaPerUnit units per dollar. */
export function formatQuota(q: number | undefined | null, quotaPerUnit?: number, inCurrency?: boolean): string {
  const n = typeof q === 'number' && isFinite(q) ? q : 0;
  if (inCurrency && quotaPerUnit && quotaPerUnit > 0) {
    const v = n / quotaPerUnit;
    const digits = Math.abs(v) > 0 && Math.abs(v) < 0.01 ? 6 : 2;
    return `$${v.toFixed(digits)}`;
  }
  return n.toLocaleString('en-US');
}
