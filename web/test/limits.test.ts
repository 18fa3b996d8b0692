import { describe, expect, it } from 'vitest';
import {
  MAX_LIMIT, NO_LIMITS, compact, groupLimitsErrors, groupLimitsValue, limitBody, limitErrors, limitForm, parseGroupLimits, periodState, rateSummary,
} from '../src/limits';
import { channelCount, keyCounts, keyLines, keyMode, keyModeError } from '../src/channelKeys';
import { fill } from '../src/i18n';

// t as the English console renders it.
const t = (s: string, vars?: Record<string, string | number>) => fill(s, vars);

describe('token and user limits form', () => {
  it('reads fields a server without period quotas leaves out as none', () => {
    expect(limitForm({ rpm_limit: 60 })).toEqual({ ...NO_LIMITS, rpm_limit: 60 });
    expect(limitForm(undefined)).toEqual(NO_LIMITS);
  });

  it('reads a period quota only with its period, and the reverse', () => {
    expect(limitForm({ period_quota: 5000, quota_period: 'week' })).toMatchObject({ period_quota: 5000, quota_period: 'week' });
    expect(limitForm({ period_quota: 5000, quota_period: '' })).toMatchObject({ period_quota: 0, quota_period: '' });
    expect(limitForm({ period_quota: 0, quota_period: 'day' })).toMatchObject({ period_quota: 0, quota_period: '' });
    expect(limitForm({ period_quota: 10, quota_period: 'fortnight' })).toMatchObject({ period_quota: 0, quota_period: '' });
  });

  it('accepts no limits, and every limit at its bound', () => {
    expect(limitErrors(NO_LIMITS, t)).toEqual({});
    const max = { rpm_limit: MAX_LIMIT, tpm_limit: MAX_LIMIT, rpd_limit: MAX_LIMIT, max_parallel_requests: MAX_LIMIT, period_quota: 1, quota_period: 'month' as const };
    expect(limitErrors(max, t)).toEqual({});
  });

  it('names the field that is out of range', () => {
    const e = limitErrors({ ...NO_LIMITS, tpm_limit: -1, max_parallel_requests: MAX_LIMIT + 1, rpd_limit: 1.5 }, t);
    expect(Object.keys(e).sort()).toEqual(['max_parallel_requests', 'rpd_limit', 'tpm_limit']);
    expect(e.tpm_limit).toBe('A whole number from 0 (no limit) to 1,000,000,000,000.');
  });

  it('asks for a quota with a period, and a period with a quota', () => {
    expect(limitErrors({ ...NO_LIMITS, quota_period: 'day' }, t)).toEqual({ period_quota: 'Set a period quota above 0, or choose no period.' });
    expect(limitErrors({ ...NO_LIMITS, period_quota: 100 }, t)).toEqual({ quota_period: 'Pick the period the quota resets on.' });
    expect(limitErrors({ ...NO_LIMITS, period_quota: -5, quota_period: 'day' }, t)).toEqual({ period_quota: 'The period quota cannot be negative.' });
  });

  it('sends every field, and no period quota as 0 with no period', () => {
    const f = { rpm_limit: 60, tpm_limit: 100000, rpd_limit: 1000, max_parallel_requests: 4, period_quota: 250000, quota_period: 'day' as const };
    expect(limitBody(f)).toEqual(f);
    expect(limitBody({ ...f, quota_period: '' })).toMatchObject({ period_quota: 0, quota_period: '' });
    expect(limitBody({ ...f, period_quota: 0 })).toMatchObject({ period_quota: 0, quota_period: '' });
  });
});

describe('period quota in the lists', () => {
  it('is none without a period quota', () => {
    expect(periodState({})).toBeNull();
    expect(periodState({ period_quota: 0, quota_period: 'day', period_used: 3 })).toBeNull();
  });

  it('says what is left and when it resets', () => {
    expect(periodState({ period_quota: 1000, quota_period: 'month', period_used: 250, period_reset_at: 1767225600 })).toEqual({
      period: 'month', quota: 1000, used: 250, left: 750, resetAt: 1767225600,
    });
  });

  it('never shows less than nothing left, and a missing used as none used', () => {
    expect(periodState({ period_quota: 1000, quota_period: 'day', period_used: 1200 })?.left).toBe(0);
    expect(periodState({ period_quota: 1000, quota_period: 'day' })).toMatchObject({ left: 1000, resetAt: 0 });
  });

  it('lists only the rate limits that are set, shortly', () => {
    expect(rateSummary({ rpm_limit: 60, tpm_limit: 100000, max_parallel_requests: 4 }, t)).toEqual(['60 RPM', '100k TPM', '4 in parallel']);
    expect(rateSummary({}, t)).toEqual([]);
    expect([compact(999), compact(1500), compact(2_000_000), compact(123_456_789)]).toEqual(['999', '1.5k', '2M', '123M']);
  });
});

describe('GroupRateLimits editor', () => {
  it('reads the option into rows by group, and writes it back without the zeros', () => {
    const p = parseGroupLimits('{"vip": {"rpm_limit": 600, "max_parallel_requests": 20}, "default": {"tpm_limit": 50000}}');
    expect('rows' in p && p.rows.map((r) => r.group)).toEqual(['default', 'vip']);
    if (!('rows' in p)) throw new Error('not parsed');
    expect(p.rows[1]).toEqual({ group: 'vip', rpm_limit: 600, tpm_limit: 0, rpd_limit: 0, max_parallel_requests: 20 });
    expect(groupLimitsValue(p.rows)).toBe('{"default":{"tpm_limit":50000},"vip":{"rpm_limit":600,"max_parallel_requests":20}}');
    expect(parseGroupLimits('')).toEqual({ rows: [] });
    expect(groupLimitsValue([])).toBe('{}');
  });

  it('keeps a group whose limits are all 0 (no limit) and trims names', () => {
    expect(groupLimitsValue([{ group: ' free ', rpm_limit: 0, tpm_limit: 0, rpd_limit: 0, max_parallel_requests: 0 }])).toBe('{"free":{}}');
  });

  it('refuses what the server would refuse, so the table falls back to JSON', () => {
    for (const v of ['[1]', '{"a": 1}', '{"a": {"rpm": 1}}', '{"a": {"rpm_limit": -1}}', '{"a": {"rpm_limit": "60"}}', '{']) {
      expect('error' in parseGroupLimits(v)).toBe(true);
    }
  });

  it('names the row that is wrong: blank, twice, out of range', () => {
    const row = (group: string, rpm_limit = 0) => ({ group, rpm_limit, tpm_limit: 0, rpd_limit: 0, max_parallel_requests: 0 });
    expect(groupLimitsErrors([row('a', 1), row(''), row('b'), row('b '), row('c', MAX_LIMIT + 1)], t)).toEqual([
      null,
      'Name the group.',
      'Group b is listed twice.',
      'Group b is listed twice.',
      'A whole number from 0 (no limit) to 1,000,000,000,000.',
    ]);
  });
});

describe('multi-key channels', () => {
  it('splits keys by line, dropping blanks and spaces', () => {
    expect(keyLines(' sk-a \n\n sk-b\r\nsk-c ')).toEqual(['sk-a', 'sk-b', 'sk-c']);
    expect(keyMode('polling')).toBe('polling');
    expect(keyMode('round-robin')).toBe('');
  });

  it('makes one channel per line, or one channel for all lines', () => {
    expect(channelCount({ key: 'a\nb\nc', multi: false })).toBe(3);
    expect(channelCount({ key: 'a\nb\nc', multi: true })).toBe(1);
  });

  it('counts disabled keys', () => {
    expect(keyCounts([{ index: 0, key: 'sk-a***', status: 1 }, { index: 1, key: 'sk-b***', status: 3, reason: 'invalid api key' }])).toEqual({ total: 2, disabled: 1 });
    expect(keyCounts(undefined)).toEqual({ total: 0, disabled: 0 });
  });

  it('refuses a save that would turn a key list into one key', () => {
    expect(keyModeError({ key: '', multi: false }, 0, t)).toBe('Key is required.');
    expect(keyModeError({ key: 'a\nb', multi: true }, 0, t)).toBeNull();
    expect(keyModeError({ key: 'a\nb', multi: false }, 0, t)).toBeNull(); // one channel per line
    expect(keyModeError({ id: 7, key: 'a\nb', multi: false }, 1, t)).toBe('A channel with one key takes one line; choose several keys to keep them all.');
    expect(keyModeError({ id: 7, key: '', multi: false }, 3, t)).toBe('This channel holds 3 keys: enter the one key to keep, or keep several keys.');
    expect(keyModeError({ id: 7, key: '', multi: true }, 3, t)).toBeNull();
    expect(keyModeError({ id: 7, key: 'sk-new', multi: false }, 3, t)).toBeNull();
  });
});
