import { notifications } from '@mantine/notifications';

/** fmtTime renders a Unix time in seconds as local date and time; 0 or less is a dash. */
export function fmtTime(ts: number | undefined | null): string {
  if (!ts || ts <= 0) return '—';
  const d = new Date(ts * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** toLocalInput turns Unix seconds into the value of a datetime-local input. */
export function toLocalInput(ts: number): string {
  if (!ts || ts <= 0) return '';
  const d = new Date(ts * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** fromLocalInput turns a datetime-local value into Unix seconds, or 0 when empty or invalid. */
export function fromLocalInput(v: string): number {
  if (!v) return 0;
  const ms = new Date(v).getTime();
  return isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

export function notifyError(e: unknown) {
  const message = e instanceof Error ? e.message : String(e);
  notifications.show({ color: 'red', message, autoClose: 8000 });
}

export function notifyOk(message: string) {
  notifications.show({ color: 'green', message, autoClose: 3000 });
}

/** copyText writes to the clipboard, falling back to a hidden textarea where the API is missing (plain HTTP). */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall back below
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  document.body.removeChild(ta);
  return ok;
}

/** jsonObjectError says why s is not a JSON object (an array or a scalar is refused), or null when it is one or is blank. */
export function jsonObjectError(s: string): string | null {
  if (!s.trim()) return null;
  try {
    const v = JSON.parse(s);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'must be a JSON object';
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
