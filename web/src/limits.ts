// Rate limits and period quotas of tokens and users (issue 11), as the
// management API names them: rpm_limit, tpm_limit, rpd_limit and
// max_parallel_requests (0 or absent: no limit), and period_quota with
// quota_period ("" none, "day", "week", "month"), period_used and
// period_reset_at read-only beside them. A server that does not know a
// field leaves it out of its replies; it reads here as none.

/** MAX_LIMIT is the server's bound on every limit (model.MaxLimit). */
export const MAX_LIMIT = 1_000_000_000_000;

export type QuotaPeriod = '' | 'day' | 'week' | 'month';
export const QUOTA_PERIODS: QuotaPeriod[] = ['', 'day', 'week', 'month'];

/** RATE_FIELDS are the four rate limits, in the order the forms show them. */
export const RATE_FIELDS = ['rpm_limit', 'tpm_limit', 'rpd_limit', 'max_parallel_requests'] as const;
export type RateField = (typeof RATE_FIELDS)[number];

/** LimitForm is what a token's or user's form edits. */
export interface LimitForm {
  rpm_limit: number;
  tpm_limit: number;
  rpd_limit: number;
  max_parallel_requests: number;
  period_quota: number;
  quota_period: QuotaPeriod;
}

/** Limited is the part of a token or user object this file reads. */
export interface Limited {
  rpm_limit?: number;
  tpm_limit?: number;
  rpd_limit?: number;
  max_parallel_requests?: number;
  period_quota?: number;
  quota_period?: string;
  period_used?: number;
  period_reset_at?: number;
}

export const NO_LIMITS: LimitForm = {
  rpm_limit: 0,
  tpm_limit: 0,
  rpd_limit: 0,
  max_parallel_requests: 0,
  period_quota: 0,
  quota_period: '',
};

type Translate = (s: string, vars?: Record<string, string | number>) => string;

function num(v: unknown): number {
  return typeof v === 'number' && isFinite(v) && v > 0 ? Math.trunc(v) : 0;
}

function period(v: unknown): QuotaPeriod {
  return v === 'day' || v === 'week' || v === 'month' ? v : '';
}

/** limitForm reads an object's limits into a form; what is absent or unusable is none. */
export function limitForm(o: Limited | null | undefined): LimitForm {
  const p = period(o?.quota_period);
  const q = num(o?.period_quota);
  return {
    rpm_limit: num(o?.rpm_limit),
    tpm_limit: num(o?.tpm_limit),
    rpd_limit: num(o?.rpd_limit),
    max_parallel_requests: num(o?.max_parallel_requests),
    // A period without a quota, or a quota without a period, is none.
    period_quota: p ? q : 0,
    quota_period: q ? p : '',
  };
}

/** LimitErrors name the field each problem is under. */
export type LimitErrors = Partial<Record<keyof LimitForm, string>>;

/** limitErrors checks a form the way the server will, so the fields say what is wrong before saving. */
export function limitErrors(f: LimitForm, t: Translate): LimitErrors {
  const e: LimitErrors = {};
  const whole = (v: number) => Number.isInteger(v) && v >= 0 && v <= MAX_LIMIT;
  for (const k of RATE_FIELDS) if (!whole(f[k])) e[k] = t('A whole number from 0 (no limit) to {max}.', { max: MAX_LIMIT.toLocaleString('en-US') });
  if (!Number.isInteger(f.period_quota) || f.period_quota < 0) e.period_quota = t('The period quota cannot be negative.');
  else if (f.quota_period && f.period_quota === 0) e.period_quota = t('Set a period quota above 0, or choose no period.');
  else if (!f.quota_period && f.period_quota > 0) e.quota_period = t('Pick the period the quota resets on.');
  return e;
}

/** limitBody is what a form sends: every field, and no period quota as 0 with no period. */
export function limitBody(f: LimitForm): LimitForm {
  const none = !f.quota_period || f.period_quota <= 0;
  return {
    rpm_limit: f.rpm_limit,
    tpm_limit: f.tpm_limit,
    rpd_limit: f.rpd_limit,
    max_parallel_requests: f.max_parallel_requests,
    period_quota: none ? 0 : f.period_quota,
    quota_period: none ? '' : f.quota_period,
  };
}

/** PeriodState is where an object stands in its quota period. */
export interface PeriodState {
  period: Exclude<QuotaPeriod, ''>;
  quota: number;
  used: number;
  /** left is what the period still allows, never below zero. */
  left: number;
  /** resetAt is the period's end in Unix seconds, 0 when the server did not say. */
  resetAt: number;
}

/** periodState says where o stands in its quota period, or null when it has none. */
export function periodState(o: Limited | null | undefined): PeriodState | null {
  const p = period(o?.quota_period);
  const quota = num(o?.period_quota);
  if (!p || !quota) return null;
  const used = num(o?.period_used);
  return { period: p, quota, used, left: Math.max(0, quota - used), resetAt: num(o?.period_reset_at) };
}

/** periodName names a quota period in words. */
export function periodName(p: QuotaPeriod, t: Translate): string {
  switch (p) {
    case 'day':
      return t('Daily');
    case 'week':
      return t('Weekly');
    case 'month':
      return t('Monthly');
    default:
      return t('No period quota');
  }
}

/** compact writes a big count short: 1,500 → 1.5k, 2,000,000 → 2M. */
export function compact(n: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [v, u] of units) {
    if (n >= v) {
      const x = n / v;
      return `${x >= 100 || Number.isInteger(x) ? Math.round(x) : x.toFixed(1).replace(/\.0$/, '')}${u}`;
    }
  }
  return String(n);
}

/** rateSummary lists the rate limits that are set, shortly, e.g. ["60 RPM", "100k TPM"]. */
export function rateSummary(o: Limited | null | undefined, t: Translate): string[] {
  const f = limitForm(o);
  const out: string[] = [];
  if (f.rpm_limit) out.push(t('{n} RPM', { n: compact(f.rpm_limit) }));
  if (f.tpm_limit) out.push(t('{n} TPM', { n: compact(f.tpm_limit) }));
  if (f.rpd_limit) out.push(t('{n} RPD', { n: compact(f.rpd_limit) }));
  if (f.max_parallel_requests) out.push(t('{n} in parallel', { n: compact(f.max_parallel_requests) }));
  return out;
}

/** GroupLimitRow is one group's line in the GroupRateLimits editor. */
export interface GroupLimitRow {
  group: string;
  rpm_limit: number;
  tpm_limit: number;
  rpd_limit: number;
  max_parallel_requests: number;
}

/**
 * parseGroupLimits reads the GroupRateLimits option into rows, sorted by
 * group, or says why it cannot: the table then falls back to plain JSON.
 */
export function parseGroupLimits(value: string): { rows: GroupLimitRow[] } | { error: string } {
  if (!value.trim()) return { rows: [] };
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'must be a JSON object' };
  const rows: GroupLimitRow[] = [];
  for (const [group, l] of Object.entries(v as Record<string, unknown>)) {
    if (l === null || typeof l !== 'object' || Array.isArray(l)) return { error: `"${group}" must map to an object` };
    const row: GroupLimitRow = { group, rpm_limit: 0, tpm_limit: 0, rpd_limit: 0, max_parallel_requests: 0 };
    for (const [k, x] of Object.entries(l as Record<string, unknown>)) {
      if (!(RATE_FIELDS as readonly string[]).includes(k)) return { error: `"${group}" has an unknown field "${k}"` };
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) return { error: `"${group}".${k} must be a whole number` };
      row[k as RateField] = x;
    }
    rows.push(row);
  }
  rows.sort((a, b) => a.group.localeCompare(b.group));
  return { rows };
}

/** groupLimitsErrors checks the editor's rows: per row, what is wrong, or nothing. */
export function groupLimitsErrors(rows: GroupLimitRow[], t: Translate): (string | null)[] {
  const seen = new Map<string, number>();
  for (const r of rows) seen.set(r.group.trim(), (seen.get(r.group.trim()) ?? 0) + 1);
  return rows.map((r) => {
    const g = r.group.trim();
    if (!g) return t('Name the group.');
    if ((seen.get(g) ?? 0) > 1) return t('Group {g} is listed twice.', { g });
    for (const k of RATE_FIELDS) {
      const v = r[k];
      if (!Number.isInteger(v) || v < 0 || v > MAX_LIMIT) return t('A whole number from 0 (no limit) to {max}.', { max: MAX_LIMIT.toLocaleString('en-US') });
    }
    return null;
  });
}

/** groupLimitsValue writes rows back as the option's JSON, leaving out the limits that are 0. */
export function groupLimitsValue(rows: GroupLimitRow[]): string {
  const out: Record<string, Partial<Record<RateField, number>>> = {};
  for (const r of [...rows].sort((a, b) => a.group.trim().localeCompare(b.group.trim()))) {
    const l: Partial<Record<RateField, number>> = {};
    for (const k of RATE_FIELDS) if (r[k]) l[k] = r[k];
    out[r.group.trim()] = l;
  }
  return JSON.stringify(out);
}
