import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { ActionIcon, Autocomplete, Button, Group, NumberInput, Stack, Table, Text, Textarea } from '@mantine/core';
import { useI18n } from '../i18n';
import { api } from '../api';
import {
  MAX_LIMIT, RATE_FIELDS, groupLimitsErrors, groupLimitsValue, parseGroupLimits, type GroupLimitRow, type RateField,
} from '../limits';

interface Props {
  value: string;
  label: ReactNode;
  help?: string;
  onSave: (value: string) => Promise<boolean>;
}

const blank = (): GroupLimitRow => ({ group: '', rpm_limit: 0, tpm_limit: 0, rpd_limit: 0, max_parallel_requests: 0 });

/**
 * GroupLimitsEditor edits the GroupRateLimits option as a table, one row
 * per user group with its four shared limits (0: none), and writes the
 * option's JSON back. A stored value the table cannot read is shown as
 * JSON to fix by hand instead of being dropped.
 */
export default function GroupLimitsEditor({ value, label, help, onSave }: Props) {
  const { t } = useI18n();
  const parsed = useMemo(() => parseGroupLimits(value), [value]);
  const saved = 'rows' in parsed ? parsed.rows : null;
  const [rows, setRows] = useState<GroupLimitRow[]>(saved ?? []);
  const [raw, setRaw] = useState(value);
  const [busy, setBusy] = useState(false);
  const [groups, setGroups] = useState<string[]>([]);
  useEffect(() => {
    setRows(saved ?? []);
    setRaw(value);
  }, [saved, value]);
  useEffect(() => {
    api<unknown>('GET', '/api/group/')
      .then((d) => Array.isArray(d) && setGroups(d.map(String)))
      .catch(() => setGroups([])); // suggestions only; any group name may be typed
  }, []);

  const names: Record<RateField, string> = {
    rpm_limit: t('Requests per minute'),
    tpm_limit: t('Tokens per minute'),
    rpd_limit: t('Requests per day'),
    max_parallel_requests: t('Parallel requests'),
  };

  const save = async (v: string) => {
    setBusy(true);
    await onSave(v);
    setBusy(false);
  };

  if (!saved) {
    // What is stored does not read as a table: edit it as text.
    const err = 'error' in parsed && raw === value ? parsed.error : (() => {
      const p = parseGroupLimits(raw);
      return 'error' in p ? p.error : null;
    })();
    return (
      <Stack gap={4}>
        <Textarea label={label} description={help} autosize minRows={4} classNames={{ input: 'mono' }} value={raw} error={err ? t('Invalid JSON: {e}', { e: err }) : undefined} onChange={(e) => setRaw(e.currentTarget.value)} />
        <Group justify="flex-end">
          <Button size="compact-xs" disabled={!!err || raw === value} loading={busy} onClick={() => save(raw)}>{t('Save')}</Button>
        </Group>
      </Stack>
    );
  }

  const errors = groupLimitsErrors(rows, t);
  const next = groupLimitsValue(rows);
  const dirty = next !== groupLimitsValue(saved);
  const bad = errors.some(Boolean);
  const set = (i: number, r: GroupLimitRow) => setRows(rows.map((x, j) => (j === i ? r : x)));

  return (
    <Stack gap={4} data-testid="group-limits">
      <Text size="sm" fw={500} component="div">{label}</Text>
      {help && <Text size="xs" c="dimmed">{help}</Text>}
      <Table verticalSpacing={4} fz="sm" withRowBorders={false}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('Group')}</Table.Th>
            {RATE_FIELDS.map((k) => <Table.Th key={k}>{names[k]}</Table.Th>)}
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r, i) => (
            <Table.Tr key={i} data-testid="group-limits-row">
              <Table.Td miw={140}>
                <Autocomplete
                  size="xs"
                  data={groups.filter((g) => !rows.some((x) => x.group === g))}
                  value={r.group}
                  error={errors[i] || undefined}
                  aria-label={t('Group')}
                  onChange={(g) => set(i, { ...r, group: g })}
                />
              </Table.Td>
              {RATE_FIELDS.map((k) => (
                <Table.Td key={k}>
                  <NumberInput
                    size="xs"
                    min={0}
                    max={MAX_LIMIT}
                    allowDecimal={false}
                    allowNegative={false}
                    thousandSeparator=","
                    aria-label={names[k]}
                    value={r[k]}
                    onChange={(v) => set(i, { ...r, [k]: typeof v === 'number' ? Math.trunc(v) : Number(v) || 0 })}
                  />
                </Table.Td>
              ))}
              <Table.Td>
                <ActionIcon variant="subtle" color="red" aria-label={t('Remove')} onClick={() => setRows(rows.filter((_, j) => j !== i))}>×</ActionIcon>
              </Table.Td>
            </Table.Tr>
          ))}
          {!rows.length && (
            <Table.Tr>
              <Table.Td colSpan={6}>
                <Text size="sm" c="dimmed">{t('No group has limits.')}</Text>
              </Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      <Group gap="xs" justify="space-between">
        <Button size="compact-xs" variant="default" onClick={() => setRows([...rows, blank()])} data-testid="group-limits-add">{t('Add a group')}</Button>
        <Group gap="xs">
          {dirty && (
            <Button size="compact-xs" variant="subtle" onClick={() => setRows(saved)}>{t('Undo')}</Button>
          )}
          <Button size="compact-xs" disabled={!dirty || bad} loading={busy} onClick={() => save(next)} data-testid="group-limits-save">{t('Save')}</Button>
        </Group>
      </Group>
    </Stack>
  );
}
