import { describe, expect, it } from 'vitest';
import { fillDays, normalizeDashboard } from '../src/dashboard';

describe('normalizeDashboard', () => {
  it('reads Switchyard rows: UTC day buckets in unix seconds, snake_case', () => {
    const day1 = Date.UTC(2026, 10, 20) / 1000;
    const day2 = Date.UTC(2026, 10, 21) / 1000;
    const { days, models } = normalizeDashboard([
      { day: day1, model_name: 'gpt-4o-mini', requests: 3, quota: 30, prompt_tokens: 100, completion_tokens: 20 },
      { day: day1, model_name: 'gpt-4o', requests: 1, quota: 50, prompt_tokens: 10, completion_tokens: 5 },
      { day: day2, model_name: 'gpt-4o-mini', requests: 2, quota: 20, prompt_tokens: 40, completion_tokens: 8 },
    ]);
    expect(days).toEqual([
      { day: '2026-11-20', requests: 4, tokens: 135, quota: 80 },
      { day: '2026-11-21', requests: 2, tokens: 48, quota: 20 },
    ]);
    expect(models).toEqual([
      { model: 'gpt-4o-mini', requests: 5, tokens: 168, quota: 50 },
      { model: 'gpt-4o', requests: 1, tokens: 15, quota: 50 },
    ]);
  });

  it("reads One API's PascalCase rows with string days", () => {
    const { days, models } = normalizeDashboard([
      { Day: '2024-03-01', ModelName: 'gpt-3.5-turbo', RequestCount: 7, Quota: 700, PromptTokens: 70, CompletionTokens: 7 },
    ]);
    expect(days).toEqual([{ day: '2024-03-01', requests: 7, tokens: 77, quota: 700 }]);
    expect(models).toEqual([{ model: 'gpt-3.5-turbo', requests: 7, tokens: 77, quota: 700 }]);
  });

  it('does not count per-day totals twice when (day, model) rows are also sent', () => {
    const { days } = normalizeDashboard({
      daily: [{ day: '2026-01-01', requests: 9 }],
      rows: [
        { day: '2026-01-01', model_name: 'a', requests: 4 },
        { day: '2026-01-01', model_name: 'b', requests: 5 },
      ],
    });
    expect(days).toEqual([{ day: '2026-01-01', requests: 9, tokens: 0, quota: 0 }]);
  });

  it('uses separate per-day and per-model lists when there is nothing finer', () => {
    const { days, models } = normalizeDashboard({
      days: [{ date: '2026-01-02', count: 2, tokens: 10 }],
      models: [{ model: 'm', count: 2, quota: 3 }],
    });
    expect(days).toEqual([{ day: '2026-01-02', requests: 2, tokens: 10, quota: 0 }]);
    expect(models).toEqual([{ model: 'm', requests: 2, tokens: 0, quota: 3 }]);
  });

  it('gives empty series for nothing, null or junk', () => {
    for (const d of [[], null, undefined, 'x', 3, { a: 1 }]) {
      expect(normalizeDashboard(d)).toEqual({ days: [], models: [] });
    }
  });
});

describe('fillDays', () => {
  it('draws every day of the period, zeros included', () => {
    const today = new Date(Date.UTC(2026, 11, 1, 15));
    const filled = fillDays([{ day: '2026-11-29', requests: 3, tokens: 30, quota: 300 }], 4, today);
    expect(filled.map((d) => d.day)).toEqual(['2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01']);
    expect(filled.map((d) => d.requests)).toEqual([0, 3, 0, 0]);
  });
});
