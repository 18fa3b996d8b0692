import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, listPage, onUnauthorized, qs, request } from '../src/api';

function reply(status: number, body: unknown) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response(text, { status, statusText: status === 200 ? 'OK' : 'Error' })),
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('request', () => {
  it("returns data, and throws the API's own message when success is false", async () => {
    reply(200, { success: true, message: '', data: { id: 1 } });
    await expect(api('GET', '/api/x')).resolves.toEqual({ id: 1 });
    reply(200, { success: false, message: 'that username is taken' });
    await expect(api('POST', '/api/user/register', {})).rejects.toThrow('that username is taken');
  });

  it('keeps the HTTP status on the error', async () => {
    reply(403, { success: false, message: 'admins only' });
    const err = await api('GET', '/api/user/').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(403);
  });

  it('says what came back when the reply is not the envelope', async () => {
    reply(502, '<html>Bad Gateway</html>');
    await expect(request('GET', '/api/status')).rejects.toThrow(/HTTP 502.*Bad Gateway/);
  });

  it('reports a network failure instead of failing silently', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(request('GET', '/api/status')).rejects.toThrow('network error: Failed to fetch');
  });

  it('tells listeners about a lost session, except on the sign-in call itself', async () => {
    const seen = vi.fn();
    const off = onUnauthorized(seen);
    reply(401, { success: false, message: 'not signed in' });
    await request('GET', '/api/user/self').catch(() => {});
    await request('POST', '/api/user/login', {}).catch(() => {});
    off();
    await request('GET', '/api/user/self').catch(() => {});
    expect(seen).toHaveBeenCalledTimes(1);
  });
});

describe('listPage', () => {
  it('reads rows with a total, with has_more, or wrapped as {items, total}', async () => {
    reply(200, { success: true, data: [1, 2], total: 12 });
    await expect(listPage('/api/user/')).resolves.toEqual({ items: [1, 2], total: 12, hasMore: undefined });
    reply(200, { success: true, data: [1], has_more: true });
    await expect(listPage('/api/log/')).resolves.toEqual({ items: [1], total: undefined, hasMore: true });
    reply(200, { success: true, data: { items: [3], total: 1 } });
    await expect(listPage('/api/x')).resolves.toEqual({ items: [3], total: 1, hasMore: undefined });
  });
});

describe('qs', () => {
  it('leaves out empty values and encodes the rest', () => {
    expect(qs({ p: 0, keyword: 'a b', empty: '', none: undefined })).toBe('?p=0&keyword=a+b');
    expect(qs({})).toBe('');
  });
});
