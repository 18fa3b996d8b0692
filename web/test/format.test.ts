import { describe, expect, it } from 'vitest';
import { formatQuota } from '../src/state';
import { fromLocalInput, jsonObjectError, toLocalInput, fmtTime } from '../src/util';

describe('formatQuota', () => {
  it('shows raw units when currency display is off', () => {
    expect(formatQuota(1234567, 500000, false)).toBe('1,234,567');
  });
  it('shows dollars at QuotaPerUnit units per dollar', () => {
    expect(formatQuota(1000000, 500000, true)).toBe('$2.00');
    expect(formatQuota(250000, 500000, true)).toBe('$0.50');
  });
  it('keeps a tiny charge visible instead of rounding it to $0.00', () => {
    expect(formatQuota(3, 500000, true)).toBe('$0.000006');
  });
  it('treats a missing or broken quota as zero', () => {
    expect(formatQuota(undefined, 500000, true)).toBe('$0.00');
    expect(formatQuota(NaN, 500000, false)).toBe('0');
  });
  it('falls back to units when QuotaPerUnit is unusable', () => {
    expect(formatQuota(10, 0, true)).toBe('10');
  });
});

describe('jsonObjectError', () => {
  it('accepts a JSON object and a blank field', () => {
    expect(jsonObjectError('{"a": "b"}')).toBeNull();
    expect(jsonObjectError('   ')).toBeNull();
  });
  it('refuses arrays, scalars and broken JSON with a reason', () => {
    expect(jsonObjectError('[1]')).toBe('must be a JSON object');
    expect(jsonObjectError('3')).toBe('must be a JSON object');
    expect(jsonObjectError('null')).toBe('must be a JSON object');
    expect(jsonObjectError('{"a":')).toMatch(/JSON/);
  });
});

describe('time helpers', () => {
  it('round-trips a datetime-local value to the minute', () => {
    const ts = Math.floor(new Date(2030, 0, 2, 3, 4).getTime() / 1000);
    expect(toLocalInput(ts)).toBe('2030-01-02T03:04');
    expect(fromLocalInput(toLocalInput(ts))).toBe(ts);
  });
  it('maps empty and invalid inputs to 0, and 0 or -1 times to a dash', () => {
    expect(fromLocalInput('')).toBe(0);
    expect(fromLocalInput('not a date')).toBe(0);
    expect(toLocalInput(-1)).toBe('');
    expect(fmtTime(0)).toBe('—');
    expect(fmtTime(-1)).toBe('—');
  });
});
