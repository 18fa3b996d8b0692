import { Badge } from '@mantine/core';
import { useI18n } from '../i18n';

type Kind = 'token' | 'channel' | 'user' | 'redemption';

const LABELS: Record<Kind, Record<number, [string, string]>> = {
  token: { 1: ['Enabled', 'green'], 2: ['Disabled', 'gray'], 3: ['Expired', 'orange'], 4: ['Exhausted', 'red'] },
  channel: { 1: ['Enabled', 'green'], 2: ['Disabled', 'gray'], 3: ['Auto-disabled', 'red'] },
  user: { 1: ['Enabled', 'green'], 2: ['Disabled', 'red'] },
  redemption: { 1: ['Unused', 'green'], 2: ['Disabled', 'gray'], 3: ['Used', 'blue'] },
};

/** StatusBadge names a status number the way One API numbers it for each kind of object. */
export default function StatusBadge({ kind, status }: { kind: Kind; status: number }) {
  const { t } = useI18n();
  const [label, color] = LABELS[kind][status] ?? [t('Unknown ({n})', { n: status }), 'gray'];
  return (
    <Badge color={color} variant="light">
      {t(label)}
    </Badge>
  );
}
