// A stand-in for Switchyard's management API and /v1 relay, in memory, for
// working on the console and running console.mjs where no Switchyard build
// is at hand. It follows the documented One API contract only as far as
// the console uses it; the real test runs against Switchyard itself.
//
//   node e2e/mock-switchyard.mjs [--port 3000] [--root-password pw] [--upstream-port 0] [--demo]
//
// It also starts an OpenAI-compatible test upstream and prints both URLs.
// --demo fills in a week of usage so the dashboard has something to draw.

import http from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { randomBytes } from 'node:crypto';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']);
    return acc;
  }, []),
);
const PORT = Number(args.port ?? 3000);
const ROOT_PASSWORD = args['root-password'] ?? 'root-password';
const DIST = new URL('../dist/', import.meta.url).pathname;
const QUOTA_PER_UNIT = 500000;

const now = () => Math.floor(Date.now() / 1000);
const rand = (n) => randomBytes(n).toString('base64url').slice(0, n);

// ---- state ----
const db = {
  users: [{ id: 1, username: 'root', password: ROOT_PASSWORD, display_name: 'Root', role: 100, status: 1, email: '', quota: 100 * QUOTA_PER_UNIT, used_quota: 0, request_count: 0, group: 'default', aff_code: rand(6) }],
  tokens: [],
  channels: [],
  redemptions: [],
  logs: [],
  options: {
    SystemName: 'Switchyard', Logo: '', Footer: '', Notice: '', About: '', ServerAddress: `http://localhost:${PORT}`,
    RegisterEnabled: 'true', PasswordRegisterEnabled: 'true', PasswordLoginEnabled: 'true', EmailVerificationEnabled: 'false',
    TurnstileCheckEnabled: 'false', TurnstileSiteKey: '', QuotaPerUnit: String(QUOTA_PER_UNIT), DisplayInCurrencyEnabled: 'true',
    QuotaForNewUser: '0', RetryTimes: '2', AutomaticDisableChannelEnabled: 'true',
    ModelRatio: JSON.stringify({ 'gpt-4o-mini': 0.075, 'gpt-4o': 1.25 }), GroupRatio: JSON.stringify({ default: 1, vip: 0.8 }),
    CompletionRatio: JSON.stringify({ 'gpt-4o-mini': 4 }),
  },
  sessions: new Map(),
  seq: { user: 1, token: 0, channel: 0, redemption: 0, log: 0 },
};
const started = now();

function log(row) {
  db.logs.push({ id: ++db.seq.log, created_at: now(), content: '', token_name: '', model_name: '', quota: 0, prompt_tokens: 0, completion_tokens: 0, channel: 0, ...row });
}

// ---- http helpers ----
const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const ok = (res, data, extra = {}) => send(res, 200, { success: true, message: '', data, ...extra });
const fail = (res, message, status = 200) => send(res, status, { success: false, message });
const readBody = (req) =>
  new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => {
      try {
        resolve(s ? JSON.parse(s) : {});
      } catch {
        resolve(null);
      }
    });
  });
const page = (url, rows) => {
  const p = Number(url.searchParams.get('p') ?? 0);
  const size = Number(url.searchParams.get('page_size') ?? 10);
  return { rows: rows.slice(p * size, p * size + size), total: rows.length };
};
const sessionUser = (req) => {
  const m = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? '');
  const id = m && db.sessions.get(m[1]);
  const u = id && db.users.find((x) => x.id === id);
  return u && u.status === 1 ? u : null;
};
const view = (u) => {
  const { password, ...rest } = u;
  void password;
  return rest;
};
const maskKey = (k) => `${k.slice(0, 5)}…${k.slice(-4)}`;

// ---- fake upstream ----
const upstream = http.createServer(async (req, res) => {
  if (req.method === 'POST' && req.url.endsWith('/chat/completions')) {
    const body = await readBody(req);
    const text = 'Hello from the test upstream.';
    return send(res, 200, {
      id: `chatcmpl-${rand(10)}`, object: 'chat.completion', created: now(), model: body?.model ?? 'unknown',
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
    });
  }
  if (req.method === 'GET' && req.url.endsWith('/models')) return send(res, 200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }] });
  send(res, 404, { error: { message: 'not found' } });
});
await new Promise((r) => upstream.listen(Number(args['upstream-port'] ?? 0), '127.0.0.1', r));
const UPSTREAM = `http://127.0.0.1:${upstream.address().port}`;

async function callUpstream(ch, model, messages) {
  const base = (ch.base_url || 'https://api.openai.com').replace(/\/$/, '');
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ch.key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, messages }),
  });
  const j = await r.json();
  if (!r.ok) throw new Error(j?.error?.message ?? `upstream HTTP ${r.status}`);
  return j;
}

// ---- demo data ----
if (args.demo) {
  const models = ['gpt-4o-mini', 'gpt-4o', 'mistral-large-latest', 'deepseek-chat'];
  const root = db.users[0];
  for (let d = 6; d >= 0; d--) {
    for (const [i, m] of models.entries()) {
      const n = 3 + ((d * 7 + i * 5) % 11);
      for (let k = 0; k < n; k++) {
        const pt = 200 + ((d * 31 + k * 17 + i * 13) % 900);
        const ct = 80 + ((d * 11 + k * 29) % 400);
        const q = Math.round((pt + ct * 4) * [0.075, 1.25, 1, 0.14][i]);
        log({ created_at: now() - d * 86400 - k * 600, type: 2, user_id: root.id, username: 'root', token_name: 'demo', model_name: m, quota: q, prompt_tokens: pt, completion_tokens: ct, channel: 1 + (i % 3), elapsed_time: 300 + ((k * 97) % 1500), is_stream: k % 2 === 0 });
        root.used_quota += q;
        root.quota -= q;
        root.request_count++;
      }
    }
  }
  const mk = (name, type, base_url, models, priority, weight, status, rt, balance) =>
    db.channels.push({ id: ++db.seq.channel, name, type, key: `sk-${rand(40)}`, base_url, models, group: 'default', priority, weight, status, response_time: rt, test_time: now() - 300, balance, used_quota: Math.round(Math.random() * 4e6), created_time: now() - 86400 * 9, model_mapping: '', config: '', other: '', inflight: Math.floor(rt / 400), max_inflight: rt > 1000 ? 8 : 0 });
  mk('openai-primary', 1, '', 'gpt-4o-mini,gpt-4o', 10, 3, 1, 412, 118.4);
  mk('openai-backup', 1, 'https://proxy.example.com', 'gpt-4o-mini,gpt-4o', 10, 1, 1, 688, 42.17);
  mk('mistral', 28, '', 'mistral-large-latest', 5, 1, 1, 903, 0);
  mk('deepseek', 36, '', 'deepseek-chat', 5, 1, 1, 1240, 9.8);
  mk('groq-llama', 29, '', 'llama-3.3-70b-versatile', 0, 1, 3, 2950, 0);
  db.options.Notice = 'Maintenance window: Sunday 02:00–03:00 UTC.';
}

// ---- routes ----
async function apiRoute(req, res, url) {
  const p = url.pathname;
  const m = req.method;
  const me = sessionUser(req);
  const body = m === 'POST' || m === 'PUT' ? await readBody(req) : {};
  if (body === null) return fail(res, 'invalid JSON body', 400);
  const needUser = () => (me ? true : (fail(res, 'not signed in', 401), false));
  const needAdmin = () => (needUser() && (me.role >= 10 || (fail(res, 'admins only', 403), false)));
  const needRoot = () => (needUser() && (me.role >= 100 || (fail(res, 'root only', 403), false)));
  const o = db.options;

  if (p === '/api/status') {
    return ok(res, {
      system_name: o.SystemName, logo: o.Logo, footer_html: o.Footer, version: 'demo', start_time: started,
      turnstile_check: o.TurnstileCheckEnabled === 'true', turnstile_site_key: o.TurnstileSiteKey,
      email_verification: o.EmailVerificationEnabled === 'true', register_enabled: o.RegisterEnabled === 'true',
      password_login_enabled: o.PasswordLoginEnabled === 'true', password_register_enabled: o.PasswordRegisterEnabled === 'true',
      quota_per_unit: Number(o.QuotaPerUnit), display_in_currency: o.DisplayInCurrencyEnabled === 'true', server_address: o.ServerAddress,
    });
  }
  if (p === '/api/notice') return ok(res, o.Notice);
  if (p === '/api/about') return ok(res, o.About);
  if (p === '/api/user/register' && m === 'POST') {
    if (o.RegisterEnabled !== 'true') return fail(res, 'registration is closed');
    if (!body.username || !body.password || body.password.length < 8) return fail(res, 'username and a password of at least 8 characters are required');
    if (db.users.some((u) => u.username === body.username)) return fail(res, 'that username is taken');
    db.users.push({ id: ++db.seq.user, username: body.username, password: body.password, display_name: body.username, role: 1, status: 1, email: '', quota: Number(o.QuotaForNewUser), used_quota: 0, request_count: 0, group: 'default', aff_code: rand(6) });
    return ok(res, null);
  }
  if (p === '/api/user/login' && m === 'POST') {
    const u = db.users.find((x) => x.username === body.username && x.password === body.password);
    if (!u) return fail(res, 'wrong username or password');
    if (u.status !== 1) return fail(res, 'this user is disabled');
    const sid = rand(24);
    db.sessions.set(sid, u.id);
    return send(res, 200, { success: true, message: '', data: view(u) }, { 'Set-Cookie': `session=${sid}; Path=/; HttpOnly; SameSite=Lax` });
  }
  if (p === '/api/user/logout') return send(res, 200, { success: true, message: '' }, { 'Set-Cookie': 'session=; Path=/; Max-Age=0' });
  if (p === '/api/user/self') {
    if (!needUser()) return;
    if (m === 'PUT') {
      if (body.display_name !== undefined) me.display_name = body.display_name;
      if (body.password) me.password = body.password;
      return ok(res, null);
    }
    return ok(res, view(me));
  }
  if (p === '/api/user/token') return needUser() && ok(res, rand(32));
  if (p === '/api/user/aff') return needUser() && ok(res, me.aff_code);
  if (p === '/api/user/dashboard') {
    if (!needUser()) return;
    const all = url.searchParams.get('scope') === 'all';
    if (all && me.role < 10) return fail(res, 'only admins may see everyone\'s usage', 403);
    const days = Number(url.searchParams.get('days') ?? 7);
    const today = Math.floor(now() / 86400) * 86400;
    const since = today - (days - 1) * 86400;
    const agg = new Map();
    for (const l of db.logs) {
      if (l.type !== 2 || (!all && l.user_id !== me.id) || l.created_at < since) continue;
      const day = l.created_at - (l.created_at % 86400);
      const k = `${day}|${l.model_name}`;
      const a = agg.get(k) ?? { day, model_name: l.model_name, requests: 0, quota: 0, prompt_tokens: 0, completion_tokens: 0 };
      a.requests++;
      a.quota += l.quota;
      a.prompt_tokens += l.prompt_tokens;
      a.completion_tokens += l.completion_tokens;
      agg.set(k, a);
    }
    return ok(res, [...agg.values()]);
  }
  if (p === '/api/user/topup' && m === 'POST') {
    if (!needUser()) return;
    const r = db.redemptions.find((x) => x.key === body.key);
    if (!r || r.status !== 1) return fail(res, 'invalid or used redemption code');
    r.status = 3;
    r.redeemed_time = now();
    me.quota += r.quota;
    log({ type: 1, user_id: me.id, username: me.username, quota: r.quota, content: `redeemed ${r.quota}` });
    return ok(res, r.quota);
  }
  if (p === '/api/user/manage' && m === 'POST') {
    if (!needAdmin()) return;
    const u = db.users.find((x) => x.username === body.username);
    if (!u) return fail(res, 'user not found');
    if (u.role >= me.role) return fail(res, 'no permission over a user of equal or higher role', 403);
    const a = body.action;
    if (a === 'disable') u.status = 2;
    else if (a === 'enable') u.status = 1;
    else if (a === 'delete') db.users = db.users.filter((x) => x !== u);
    else if (a === 'promote' && me.role >= 100) u.role = 10;
    else if (a === 'demote' && me.role >= 100) u.role = 1;
    else return fail(res, 'unknown action');
    return ok(res, view(u));
  }
  if (p === '/api/user/search') {
    if (!needAdmin()) return;
    const k = url.searchParams.get('keyword') ?? '';
    const { rows, total } = page(url, db.users.filter((u) => String(u.id) === k || u.username.includes(k) || u.email.includes(k)));
    return ok(res, rows.map(view), { total });
  }
  if (p === '/api/user/' || /^\/api\/user\/\d+$/.test(p)) {
    if (!needAdmin()) return;
    if (p === '/api/user/' && m === 'GET') {
      const { rows, total } = page(url, db.users);
      return ok(res, rows.map(view), { total });
    }
    if (p === '/api/user/' && m === 'POST') {
      if (!body.username || !body.password) return fail(res, 'username and password are required');
      if (db.users.some((u) => u.username === body.username)) return fail(res, 'that username is taken');
      db.users.push({ id: ++db.seq.user, username: body.username, password: body.password, display_name: body.display_name || body.username, role: 1, status: 1, email: '', quota: 0, used_quota: 0, request_count: 0, group: 'default', aff_code: rand(6) });
      return ok(res, null);
    }
    if (p === '/api/user/' && m === 'PUT') {
      const u = db.users.find((x) => x.id === body.id);
      if (!u) return fail(res, 'user not found');
      Object.assign(u, { username: body.username ?? u.username, display_name: body.display_name ?? u.display_name, email: body.email ?? u.email, group: body.group ?? u.group, quota: body.quota ?? u.quota });
      if (body.password) u.password = body.password;
      return ok(res, view(u));
    }
    const u = db.users.find((x) => x.id === Number(p.split('/').pop()));
    return u ? ok(res, view(u)) : fail(res, 'user not found');
  }
  if (p === '/api/group/') return needAdmin() && ok(res, Object.keys(JSON.parse(o.GroupRatio)));
  const known = ['deepseek-chat', 'deepseek-reasoner', 'gpt-4.1', 'gpt-4o', 'gpt-4o-mini', 'llama-3.3-70b-versatile', 'mistral-large-latest', 'o3-mini', 'text-embedding-3-small'];
  if (p === '/api/models') return needUser() && ok(res, [...new Set(db.channels.filter((c) => c.status === 1).flatMap((c) => c.models.split(',')))].sort());
  if (p === '/api/channel/models') return needAdmin() && ok(res, known.map((id) => ({ id, object: 'model', created: 1672531200, owned_by: 'switchyard' })));

  // tokens
  if (p === '/api/token/' || p === '/api/token/search' || /^\/api\/token\/\d+$/.test(p)) {
    if (!needUser()) return;
    const mine = db.tokens.filter((x) => x.user_id === me.id);
    const out = (tk) => ({ ...tk, key: maskKey(tk.key), key_hash: undefined });
    if (m === 'GET' && p === '/api/token/search') {
      const k = url.searchParams.get('keyword') ?? '';
      const { rows, total } = page(url, mine.filter((x) => x.name.includes(k)));
      return ok(res, rows.map(out), { total });
    }
    if (m === 'GET' && p === '/api/token/') {
      const { rows, total } = page(url, [...mine].reverse());
      return ok(res, rows.map(out), { total });
    }
    if (m === 'POST') {
      if (!body.name) return fail(res, 'name is required');
      const key = `sk-${rand(48)}`;
      const tk = { id: ++db.seq.token, user_id: me.id, name: body.name, key, status: 1, remain_quota: body.remain_quota ?? 0, used_quota: 0, unlimited_quota: !!body.unlimited_quota, expired_time: body.expired_time ?? -1, created_time: now(), accessed_time: 0, models: body.models ?? '', subnet: body.subnet ?? '' };
      db.tokens.push(tk);
      return ok(res, { ...out(tk), key });
    }
    if (m === 'PUT') {
      const tk = mine.find((x) => x.id === body.id);
      if (!tk) return fail(res, 'token not found');
      if (url.searchParams.get('status_only')) tk.status = body.status;
      else Object.assign(tk, { name: body.name, remain_quota: body.remain_quota, unlimited_quota: body.unlimited_quota, expired_time: body.expired_time, models: body.models, subnet: body.subnet });
      return ok(res, out(tk));
    }
    const id = Number(p.split('/').pop());
    const tk = mine.find((x) => x.id === id);
    if (!tk) return fail(res, 'token not found');
    if (m === 'DELETE') {
      db.tokens = db.tokens.filter((x) => x !== tk);
      return ok(res, null);
    }
    return ok(res, out(tk));
  }

  // channels
  if (p.startsWith('/api/channel')) {
    if (!needAdmin()) return;
    const out = (c) => ({ ...c, key: maskKey(c.key) });
    if (p === '/api/channel/' && m === 'GET') {
      const { rows, total } = page(url, [...db.channels].sort((a, b) => b.priority - a.priority || a.id - b.id));
      return ok(res, rows.map(out), { total });
    }
    if (p === '/api/channel/search') {
      const k = url.searchParams.get('keyword') ?? '';
      const { rows, total } = page(url, db.channels.filter((c) => c.name.includes(k) || String(c.id) === k));
      return ok(res, rows.map(out), { total });
    }
    if (p === '/api/channel/' && m === 'POST') {
      if (!body.key || !body.models) return fail(res, 'key and models are required');
      if (body.model_mapping) try { JSON.parse(body.model_mapping); } catch { return fail(res, 'model_mapping is not valid JSON'); }
      for (const key of String(body.key).split('\n').map((s) => s.trim()).filter(Boolean)) {
        db.channels.push({ ...body, id: ++db.seq.channel, key, status: 1, created_time: now(), used_quota: 0, response_time: 0, test_time: 0, balance: 0, inflight: 0, priority: body.priority ?? 0, weight: body.weight ?? 0 });
      }
      return ok(res, null);
    }
    if (p === '/api/channel/' && m === 'PUT') {
      const c = db.channels.find((x) => x.id === body.id);
      if (!c) return fail(res, 'channel not found');
      const { key, ...rest } = body;
      Object.assign(c, rest);
      if (key) c.key = key;
      return ok(res, out(c));
    }
    if (p === '/api/channel/disabled' && m === 'DELETE') {
      const n = db.channels.filter((c) => c.status !== 1).length;
      db.channels = db.channels.filter((c) => c.status === 1);
      return ok(res, n);
    }
    if (p === '/api/channel/test') return ok(res, null);
    if (p === '/api/channel/update_balance' || p.startsWith('/api/channel/update_balance/')) return fail(res, 'this channel type has no balance API');
    const tm = /^\/api\/channel\/test\/(\d+)$/.exec(p);
    if (tm) {
      const c = db.channels.find((x) => x.id === Number(tm[1]));
      if (!c) return fail(res, 'channel not found');
      const t0 = Date.now();
      try {
        await callUpstream(c, c.models.split(',')[0], [{ role: 'user', content: 'hi' }]);
        c.response_time = Math.max(1, Date.now() - t0);
        c.test_time = now();
        return send(res, 200, { success: true, message: '', time: (Date.now() - t0) / 1000 });
      } catch (e) {
        return send(res, 200, { success: false, message: e.message, time: (Date.now() - t0) / 1000 });
      }
    }
    const c = db.channels.find((x) => x.id === Number(p.split('/').pop()));
    if (!c) return fail(res, 'channel not found');
    if (m === 'DELETE') {
      db.channels = db.channels.filter((x) => x !== c);
      return ok(res, null);
    }
    return ok(res, out(c));
  }

  // redemptions
  if (p.startsWith('/api/redemption')) {
    if (!needAdmin()) return;
    if (p === '/api/redemption/' && m === 'GET') {
      const { rows, total } = page(url, [...db.redemptions].reverse());
      return ok(res, rows, { total });
    }
    if (p === '/api/redemption/search') {
      const k = url.searchParams.get('keyword') ?? '';
      const { rows, total } = page(url, db.redemptions.filter((r) => r.name.includes(k) || String(r.id) === k));
      return ok(res, rows, { total });
    }
    if (p === '/api/redemption/' && m === 'POST') {
      const n = Number(body.count ?? 1);
      if (!body.name || n < 1 || n > 100 || !(body.quota > 0)) return fail(res, 'name, a positive quota and a count of 1 to 100 are required');
      const keys = [];
      for (let i = 0; i < n; i++) {
        const key = rand(32);
        keys.push(key);
        db.redemptions.push({ id: ++db.seq.redemption, name: body.name, key, status: 1, quota: body.quota, created_time: now(), redeemed_time: 0 });
      }
      return ok(res, keys);
    }
    if (p === '/api/redemption/' && m === 'PUT') {
      const r = db.redemptions.find((x) => x.id === body.id);
      if (!r) return fail(res, 'redemption code not found');
      if (url.searchParams.get('status_only')) r.status = body.status;
      else Object.assign(r, { name: body.name ?? r.name, quota: body.quota ?? r.quota });
      return ok(res, r);
    }
    const r = db.redemptions.find((x) => x.id === Number(p.split('/').pop()));
    if (!r) return fail(res, 'redemption code not found');
    if (m === 'DELETE') {
      db.redemptions = db.redemptions.filter((x) => x !== r);
      return ok(res, null);
    }
    return ok(res, r);
  }

  // logs
  if (p.startsWith('/api/log')) {
    const self = p.startsWith('/api/log/self');
    if (self ? !needUser() : !needAdmin()) return;
    const q = url.searchParams;
    if (m === 'DELETE' && p === '/api/log/') {
      const before = Number(q.get('target_timestamp'));
      if (!before) return fail(res, 'target_timestamp is required');
      const n = db.logs.length;
      db.logs = db.logs.filter((l) => l.created_at >= before);
      return ok(res, n - db.logs.length);
    }
    const rows = db.logs
      .filter((l) => !self || l.user_id === me.id)
      .filter((l) => !q.get('type') || l.type === Number(q.get('type')))
      .filter((l) => !q.get('model_name') || l.model_name === q.get('model_name'))
      .filter((l) => !q.get('token_name') || l.token_name === q.get('token_name'))
      .filter((l) => self || !q.get('username') || l.username === q.get('username'))
      .filter((l) => !q.get('start_timestamp') || l.created_at >= Number(q.get('start_timestamp')))
      .filter((l) => !q.get('end_timestamp') || l.created_at <= Number(q.get('end_timestamp')))
      .sort((a, b) => b.created_at - a.created_at || b.id - a.id);
    if (p.endsWith('/stat')) {
      const c = rows.filter((l) => l.type === 2);
      const sum = (f) => c.reduce((s, l) => s + f(l), 0);
      return ok(res, { quota: sum((l) => l.quota), token: sum((l) => l.prompt_tokens + l.completion_tokens), count: c.length });
    }
    // Like Switchyard, the logs are not counted: has_more says whether a page follows.
    const { rows: pageRows, total } = page(url, rows);
    const pn = Number(q.get('p') ?? 0);
    const size = Number(q.get('page_size') ?? 10);
    return ok(res, pageRows, { has_more: (pn + 1) * size < total });
  }

  // options
  if (p === '/api/option/') {
    if (!needRoot()) return;
    if (m === 'PUT') {
      if (!(body.key in o)) return fail(res, `unknown option ${body.key}`);
      if (/Ratio$/.test(body.key)) try { JSON.parse(body.value); } catch { return fail(res, `${body.key} must be JSON`); }
      o[body.key] = String(body.value);
      return ok(res, null);
    }
    return ok(res, Object.entries(o).map(([key, value]) => ({ key, value })));
  }
  return fail(res, `unknown API ${m} ${p}`, 404);
}

async function relay(req, res) {
  const key = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
  const tk = db.tokens.find((t) => t.key === key);
  const oerr = (status, message) => send(res, status, { error: { message, type: 'invalid_request_error', param: '', code: null } });
  if (!tk || tk.status !== 1) return oerr(401, 'invalid token');
  const u = db.users.find((x) => x.id === tk.user_id);
  if (!u || u.status !== 1) return oerr(401, 'user disabled');
  if (u.quota <= 0) return oerr(403, 'user quota is used up');
  const body = await readBody(req);
  const ch = db.channels.find((c) => c.status === 1 && c.models.split(',').includes(body?.model));
  if (!ch) return oerr(503, `no channel serves ${body?.model}`);
  const t0 = Date.now();
  try {
    const r = await callUpstream(ch, body.model, body.messages);
    const ratio = JSON.parse(db.options.ModelRatio)[body.model] ?? 1;
    const q = Math.ceil((r.usage.prompt_tokens + r.usage.completion_tokens * 4) * ratio);
    u.quota -= q;
    u.used_quota += q;
    u.request_count++;
    tk.used_quota += q;
    if (!tk.unlimited_quota) tk.remain_quota -= q;
    ch.used_quota += q;
    log({ type: 2, user_id: u.id, username: u.username, token_name: tk.name, model_name: body.model, quota: q, prompt_tokens: r.usage.prompt_tokens, completion_tokens: r.usage.completion_tokens, channel: ch.id, elapsed_time: Date.now() - t0, is_stream: false, content: `model ratio ${ratio}` });
    send(res, 200, r);
  } catch (e) {
    oerr(502, e.message);
  }
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };
function staticFile(req, res, url) {
  let f = join(DIST, decodeURIComponent(url.pathname));
  if (!f.startsWith(DIST) || !existsSync(f) || statSync(f).isDirectory()) f = join(DIST, 'index.html');
  res.writeHead(200, { 'Content-Type': TYPES[extname(f)] ?? 'application/octet-stream' });
  res.end(readFileSync(f));
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  try {
    if (url.pathname.startsWith('/api/')) return await apiRoute(req, res, url);
    if (url.pathname.startsWith('/v1/')) return await relay(req, res);
    staticFile(req, res, url);
  } catch (e) {
    fail(res, `mock error: ${e.message}`, 500);
  }
});
server.listen(PORT, '127.0.0.1', () => {
  console.log(`mock switchyard on http://127.0.0.1:${server.address().port} (root password ${JSON.stringify(ROOT_PASSWORD)})`);
  console.log(`test upstream on ${UPSTREAM}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
