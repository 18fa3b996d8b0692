// One API's status numbers, one table for the whole console: what each
// number means for each kind of object, and the badge that names it.

export const ENABLED = 1;
export const DISABLED = 2;

export type StatusKind = 'token' | 'channel' | 'user' | 'redemption';

/** STATUS_LABELS: per kind, status number → [English label, badge colour]. */
export const STATUS_LABELS: Record<StatusKind, Record<number, [string, string]>> = {
  token: { 1: ['Enabled', 'green'], 2: ['Disabled', 'gray'], 3: ['Expired', 'orange'], 4: ['Exhausted', 'red'] },
  channel: { 1: ['Enabled', 'green'], 2: ['Disabled', 'gray'], 3: ['Auto-disabled', 'red'] },
  user: { 1: ['Enabled', 'green'], 2: ['Disabled', 'red'] },
  redemption: { 1: ['Unused', 'green'], 2: ['Disabled', 'gray'], 3: ['Used', 'blue'] },
};
