// Multi-key channels (issue 11). A channel's multi_key_mode is "" for One
// API's single key, or "random" / "polling" when its key text holds several
// keys, one per line, that the relay rotates. Creating with several lines
// and mode "" makes one channel per line instead, as One API does. The
// server shows a multi-key channel's keys in `keys`, masked, each with its
// state: 1 enabled, 3 disabled on its own after its upstream called it dead.

export type KeyMode = '' | 'random' | 'polling';

/** KeyView is one key as GET /api/channel/ shows it (model.KeyView). */
export interface KeyView {
  index: number;
  key: string;
  status: number;
  reason?: string;
  disabled_time?: number;
}

/** keyLines splits a key text into its keys, one per line, blanks dropped. */
export function keyLines(text: string): string[] {
  return text
    .split('\n')
    .map((k) => k.trim())
    .filter(Boolean);
}

/** keyMode reads a channel's mode; anything the console does not know is one key. */
export function keyMode(v: unknown): KeyMode {
  return v === 'random' || v === 'polling' ? v : '';
}

/** keyCounts sums a channel's keys by state. */
export function keyCounts(keys: KeyView[] | null | undefined): { total: number; disabled: number } {
  const list = keys ?? [];
  return { total: list.length, disabled: list.filter((k) => k.status !== 1).length };
}

type Translate = (s: string, vars?: Record<string, string | number>) => string;

/**
 * keyModeError says what is wrong with the keys a channel form would save,
 * or null. stored is how many keys the channel holds now (0 when new).
 */
export function keyModeError(f: { id?: number; key: string; multi: boolean }, stored: number, t: Translate): string | null {
  const lines = keyLines(f.key).length;
  if (!f.id && !lines) return t('Key is required.');
  if (f.multi) return null;
  if (f.id && lines > 1) return t('A channel with one key takes one line; choose several keys to keep them all.');
  // Saving a multi-key channel as single without a new key would make its
  // whole key list one key.
  if (f.id && !lines && stored > 1) return t('This channel holds {n} keys: enter the one key to keep, or keep several keys.', { n: stored });
  return null;
}

/** channelCount is how many channels a new channel form makes. */
export function channelCount(f: { key: string; multi: boolean }): number {
  const n = keyLines(f.key).length;
  return f.multi ? Math.min(n, 1) : n;
}
