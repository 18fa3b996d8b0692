// GET /api/user/dashboard answers with usage rows. One API sends an array
// of {Day, ModelName, RequestCount, Quota, PromptTokens, CompletionTokens};
// Switchyard may send snake_case and may group rows under named arrays.
// normalizeDashboard folds every such shape into per-day and per-model series.

export interface DayPoint {
  day: string;
  requests: number;
  tokens: number;
  quota: number;
}

export interface ModelPoint {
  model: string;
  requests: number;
  tokens: number;
  quota: number;
}

interface Row {
  day?: string;
  model?: string;
  requests: number;
  tokens: number;
  quota: number;
}

function num(v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : (v as number);
  return typeof n === 'number' && isFinite(n) ? n : 0;
}

function pick(r: Record<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) if (r[k] !== undefined && r[k] !== null) return r[k];
  return undefined;
}

function dayString(v: unknown): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'number') {
    // Seconds (or milliseconds) at the start of a UTC day bucket: read it in
    // UTC, or a viewer west of Greenwich would see the day before.
    return new Date(v > 1e11 ? v : v * 1000).toISOString().slice(0, 10);
  }
  return String(v).slice(0, 10);
}

function toRow(r: Record<string, unknown>): Row {
  const prompt = num(pick(r, 'prompt_tokens', 'PromptTokens'));
  const completion = num(pick(r, 'completion_tokens', 'CompletionTokens'));
  const tokens = pick(r, 'tokens', 'total_tokens', 'token_used', 'TokenUsed', 'Tokens');
  const model = pick(r, 'model_name', 'ModelName', 'model', 'Model');
  return {
    day: dayString(pick(r, 'day', 'Day', 'date', 'Date')),
    model: model === undefined || model === '' ? undefined : String(model),
    requests: num(pick(r, 'request_count', 'RequestCount', 'requests', 'count', 'Count')),
    tokens: tokens !== undefined ? num(tokens) : prompt + completion,
    quota: num(pick(r, 'quota', 'Quota', 'used_quota')),
  };
}

function isRowList(v: unknown): v is Record<string, unknown>[] {
  return Array.isArray(v) && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
}

export function normalizeDashboard(data: unknown): { days: DayPoint[]; models: ModelPoint[] } {
  let rows: Row[] = [];
  if (isRowList(data)) rows = data.map(toRow);
  else if (data && typeof data === 'object') {
    for (const v of Object.values(data as Record<string, unknown>)) if (isRowList(v)) rows.push(...v.map(toRow));
  }
  const both = rows.filter((r) => r.day && r.model);
  // Rows that carry day and model are the finest grain; when present, they
  // alone are summed so that per-day or per-model totals sent beside them
  // are not counted twice.
  const dayRows = both.length ? both : rows.filter((r) => r.day && !r.model);
  const modelRows = both.length ? both : rows.filter((r) => r.model && !r.day);

  const dayMap = new Map<string, DayPoint>();
  for (const r of dayRows) {
    const p = dayMap.get(r.day!) ?? { day: r.day!, requests: 0, tokens: 0, quota: 0 };
    p.requests += r.requests;
    p.tokens += r.tokens;
    p.quota += r.quota;
    dayMap.set(r.day!, p);
  }
  const modelMap = new Map<string, ModelPoint>();
  for (const r of modelRows) {
    const p = modelMap.get(r.model!) ?? { model: r.model!, requests: 0, tokens: 0, quota: 0 };
    p.requests += r.requests;
    p.tokens += r.tokens;
    p.quota += r.quota;
    modelMap.set(r.model!, p);
  }
  return {
    days: [...dayMap.values()].sort((a, b) => a.day.localeCompare(b.day)),
    models: [...modelMap.values()].sort((a, b) => b.requests - a.requests),
  };
}

/**
 * fillDays returns one point for each of the last n UTC days ending on
 * today, taking the figures from days and zeros where a day had no usage,
 * so that the chart's axis shows the whole chosen period.
 */
export function fillDays(days: DayPoint[], n: number, today: Date = new Date()): DayPoint[] {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const out: DayPoint[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const day = new Date(end - i * 86400000).toISOString().slice(0, 10);
    out.push(byDay.get(day) ?? { day, requests: 0, tokens: 0, quota: 0 });
  }
  return out;
}
