import { Badge } from '@mantine/core';
import { useI18n } from '../i18n';
import { STATUS_LABELS, type StatusKind } from '../status';

/** StatusBadge names a status number the way One API numbers it for each kind of object. */
export default function StatusBadge({ kind, status }: { kind: StatusKind; status: number }) {
  const { t } = useI18n();
  const [label, color] = STATUS_LABELS[kind][status] ?? [t('Unknown ({n})', { n: status }), 'gray'];
  return (
    <Badge color={color} variant="light">
      {t(label)}
    </Badge>
  );
}
