/**
 * modelNames flattens what the model endpoints return into sorted names:
 * a map of channel type to names (/api/models), a list of names
 * (/api/user/available_models), or a list of OpenAI model objects with an
 * id (/api/channel/models).
 */
export function modelNames(data: unknown): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string' && v) out.add(v);
    else if (v && typeof v === 'object' && 'id' in v && typeof (v as { id: unknown }).id === 'string') out.add((v as { id: string }).id);
  };
  if (Array.isArray(data)) data.forEach(add);
  else if (data && typeof data === 'object') {
    for (const v of Object.values(data as Record<string, unknown>)) {
      if (Array.isArray(v)) v.forEach(add);
    }
  }
  return [...out].sort();
}

/** splitList turns a comma list into trimmed, non-empty items. */
export function splitList(s: string | undefined | null): string[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}
