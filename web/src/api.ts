// The management API speaks One API's envelope: {success, message, data}.
// Every call goes through request() so that a failure always surfaces the
// server's own message and a lost session is noticed in one place.

import { serverMessage } from './messages';

export class ApiError extends Error {
  status: number;
  /** code is the server's stable error code, when it sent one. */
  code?: string;
  constructor(message: string, status: number, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface Envelope<T> {
  success: boolean;
  message?: string;
  data?: T;
  [extra: string]: unknown;
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** onUnauthorized registers a callback for any 401 reply; it returns an unsubscribe function. */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

/** request sends one call and returns the whole envelope, throwing ApiError when success is false. */
export async function request<T>(method: string, path: string, body?: unknown): Promise<Envelope<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(`network error: ${(e as Error).message}`, 0);
  }
  let env: Envelope<T> | null = null;
  const text = await res.text();
  try {
    env = text ? (JSON.parse(text) as Envelope<T>) : null;
  } catch {
    env = null;
  }
  if (res.status === 401 && !path.startsWith('/api/user/login')) {
    unauthorizedListeners.forEach((fn) => fn());
  }
  if (!env || typeof env !== 'object') {
    throw new ApiError(`HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`, res.status);
  }
  if (!env.success) {
    // The console's own translation when it knows the code; the server's
    // text otherwise.
    const code = typeof env.code === 'string' ? env.code : undefined;
    throw new ApiError(serverMessage(code, env.message || `HTTP ${res.status} ${res.statusText}`), res.status, code);
  }
  return env;
}

/** api is request() for callers that only want data. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const env = await request<T>(method, path, body);
  return env.data as T;
}

/** qs builds a query string, leaving out empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

/**
 * Page is one page of a server-side list. total is known only when the
 * server sends it; a list too big to count (the logs) sends has_more instead.
 */
export interface Page<T> {
  items: T[];
  total?: number;
  hasMore?: boolean;
}

/**
 * listPage reads a paged list. One API returns the rows as data; some
 * versions wrap them as {items|data, total}. Both are accepted.
 */
export async function listPage<T>(path: string): Promise<Page<T>> {
  const env = await request<unknown>('GET', path);
  const d = env.data as unknown;
  const hasMore = typeof env.has_more === 'boolean' ? (env.has_more as boolean) : undefined;
  if (Array.isArray(d)) {
    const total = typeof env.total === 'number' ? (env.total as number) : undefined;
    return { items: d as T[], total, hasMore };
  }
  if (d && typeof d === 'object') {
    const o = d as Record<string, unknown>;
    const items = (o.items ?? o.data ?? o.list ?? []) as T[];
    const total = typeof o.total === 'number' ? (o.total as number) : undefined;
    return { items: Array.isArray(items) ? items : [], total, hasMore };
  }
  return { items: [] };
}
