import { useCallback, useEffect, useState } from 'react';
import {
  Title, Group, Button, Table, TextInput, Stack, Text, Paper, Select, Badge, SegmentedControl, Tooltip, SimpleGrid, Modal, Code,
} from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api, listPage, qs } from '../api';
import { fmtTime, fromLocalInput, notifyError, notifyOk } from '../util';
import Pager from '../components/Pager';
import ConfirmButton from '../components/ConfirmButton';
import { logMessage } from '../messages';
import { EmptyRow } from '../components/TableParts';

interface Log {
  id: number;
  created_at?: number;
  created_time?: number;
  type: number;
  content?: string;
  username?: string;
  token_name?: string;
  model_name?: string;
  quota?: number;
  prompt_tokens?: number;
  completion_tokens?: number;
  channel?: number;
  channel_id?: number;
  elapsed_time?: number;
  elapsed_ms?: number;
  first_token_time?: number;
  first_token_ms?: number;
  is_stream?: boolean;
  stream?: boolean;
  request_id?: string;
  ip?: string;
  code?: string;
  params?: string;
}

/**
 * splitContent separates a consume row's stored content ("request: …\nanswer: …",
 * written when LogContentEnabled is on) and pretty-prints the request's JSON
 * when it was stored whole.
 */
export function splitContent(content: string): { request: string; answer: string } | null {
  if (!content.startsWith('request: ')) return null;
  const i = content.indexOf('\nanswer: ');
  const rawReq = content.slice('request: '.length, i < 0 ? undefined : i);
  const answer = i < 0 ? '' : content.slice(i + '\nanswer: '.length);
  let request = rawReq;
  try {
    request = JSON.stringify(JSON.parse(rawReq), null, 2);
  } catch {
    // cut at LogContentMaxBytes: shown as stored
  }
  return { request, answer };
}

const TYPES: Record<number, [string, string]> = {
  1: ['Top-up', 'green'],
  2: ['Consume', 'blue'],
  3: ['Manage', 'orange'],
  4: ['System', 'gray'],
};

interface Filters {
  type: string;
  model_name: string;
  token_name: string;
  username: string;
  channel: string;
  start: string;
  end: string;
}

const noFilters: Filters = { type: '0', model_name: '', token_name: '', username: '', channel: '', start: '', end: '' };

export default function Logs() {
  const { isAdmin, fmtQuota } = useApp();
  const { t } = useI18n();
  const [scope, setScope] = useState<'all' | 'self'>(isAdmin ? 'all' : 'self');
  const [draft, setDraft] = useState<Filters>(noFilters);
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [rows, setRows] = useState<Log[]>([]);
  const [total, setTotal] = useState<number | undefined>();
  const [hasMore, setHasMore] = useState<boolean | undefined>();
  const [page, setPage] = useState(0);
  const [pageSize, setPageSize] = useState(20);
  const [loading, setLoading] = useState(false);
  const [stat, setStat] = useState<{ quota?: number; tokens?: number; count?: number } | null>(null);

  const all = isAdmin && scope === 'all';
  const [detail, setDetail] = useState<Log | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    const q = {
      type: filters.type !== '0' ? filters.type : undefined,
      model_name: filters.model_name.trim(),
      token_name: filters.token_name.trim(),
      username: all ? filters.username.trim() : undefined,
      channel: all ? filters.channel.trim() : undefined,
      start_timestamp: fromLocalInput(filters.start) || undefined,
      end_timestamp: fromLocalInput(filters.end) || undefined,
    };
    const base = all ? '/api/log/' : '/api/log/self';
    const statPath = all ? '/api/log/stat' : '/api/log/self/stat';
    const [list, st] = await Promise.allSettled([
      listPage<Log>(`${base}${qs({ ...q, p: page, page_size: pageSize })}`),
      api<Record<string, unknown>>('GET', `${statPath}${qs(q)}`),
    ]);
    if (list.status === 'fulfilled') {
      setRows(list.value.items);
      setTotal(list.value.total);
      setHasMore(list.value.hasMore);
    } else notifyError(list.reason);
    if (st.status === 'fulfilled' && st.value && typeof st.value === 'object') {
      const v = st.value;
      const tokens = typeof v.tokens === 'number' ? v.tokens : typeof v.token === 'number' ? v.token : undefined;
      setStat({ quota: typeof v.quota === 'number' ? v.quota : undefined, tokens, count: typeof v.count === 'number' ? v.count : undefined });
    } else if (st.status === 'rejected') notifyError(st.reason);
    setLoading(false);
  }, [all, filters, page, pageSize]);

  useEffect(() => {
    load();
  }, [load]);

  const [purgeBefore, setPurgeBefore] = useState('');
  const purge = async () => {
    const ts = fromLocalInput(purgeBefore);
    if (!ts) {
      notifyError(t('Pick the time before which logs are deleted.'));
      return;
    }
    try {
      const n = await api<unknown>('DELETE', `/api/log/${qs({ target_timestamp: ts })}`);
      notifyOk(typeof n === 'number' ? t('Deleted {n} log rows', { n }) : t('Deleted'));
      load();
    } catch (e) {
      notifyError(e);
    }
  };

  const apply = () => {
    setPage(0);
    setFilters({ ...draft });
  };
  const set = (k: keyof Filters) => (e: React.ChangeEvent<HTMLInputElement>) => setDraft({ ...draft, [k]: e.currentTarget.value });

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>{t('Logs')}</Title>
        {isAdmin && (
          <SegmentedControl
            size="xs"
            value={scope}
            onChange={(v) => { setPage(0); setScope(v as 'all' | 'self'); }}
            data={[
              { value: 'all', label: t('All users') },
              { value: 'self', label: t('Mine') },
            ]}
          />
        )}
      </Group>
      <Paper withBorder p="sm" radius="md">
        <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }} spacing="xs">
          <Select
            size="xs"
            label={t('Type')}
            allowDeselect={false}
            value={draft.type}
            onChange={(v) => setDraft({ ...draft, type: v ?? '0' })}
            data={[
              { value: '0', label: t('All') },
              ...Object.entries(TYPES).map(([k, [label]]) => ({ value: k, label: t(label) })),
            ]}
          />
          <TextInput size="xs" label={t('Model')} value={draft.model_name} onChange={set('model_name')} />
          <TextInput size="xs" label={t('Token name')} value={draft.token_name} onChange={set('token_name')} />
          {all && <TextInput size="xs" label={t('Username')} value={draft.username} onChange={set('username')} />}
          {all && <TextInput size="xs" label={t('Channel ID')} value={draft.channel} onChange={set('channel')} />}
          <TextInput size="xs" type="datetime-local" label={t('From')} value={draft.start} onChange={set('start')} />
          <TextInput size="xs" type="datetime-local" label={t('To')} value={draft.end} onChange={set('end')} />
        </SimpleGrid>
        <Group justify="space-between" mt="sm">
          <Text size="sm" c="dimmed" data-testid="log-stat">
            {stat?.quota !== undefined && t('Quota used in range: {q}', { q: fmtQuota(stat.quota) })}
            {stat?.tokens !== undefined && ` · ${t('Tokens: {n}', { n: stat.tokens.toLocaleString('en-US') })}`}
            {stat?.count !== undefined && ` · ${t('Requests: {n}', { n: stat.count.toLocaleString('en-US') })}`}
          </Text>
          <Group gap="xs">
            <Button size="xs" variant="default" onClick={() => { setDraft(noFilters); setPage(0); setFilters(noFilters); }}>{t('Reset')}</Button>
            <Button size="xs" onClick={apply} loading={loading}>{t('Apply')}</Button>
          </Group>
        </Group>
      </Paper>
      <Paper withBorder radius="md" className="table-scroll">
        <Table striped highlightOnHover verticalSpacing="xs" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('Time')}</Table.Th>
              <Table.Th>{t('Type')}</Table.Th>
              {all && <Table.Th>{t('User')}</Table.Th>}
              <Table.Th>{t('Token')}</Table.Th>
              <Table.Th>{t('Model')}</Table.Th>
              {all && <Table.Th>{t('Channel')}</Table.Th>}
              <Table.Th>{t('Tokens (prompt + completion)')}</Table.Th>
              <Table.Th>{t('Quota')}</Table.Th>
              <Table.Th>{t('Latency')}</Table.Th>
              <Table.Th>{t('Details')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((l) => {
              const [label, color] = TYPES[l.type] ?? [String(l.type), 'gray'];
              const elapsed = l.elapsed_time ?? l.elapsed_ms;
              const first = l.first_token_time ?? l.first_token_ms;
              const stream = l.is_stream ?? l.stream;
              return (
                <Table.Tr key={l.id} data-testid="log-row">
                  <Table.Td className="nowrap">{fmtTime(l.created_at ?? l.created_time)}</Table.Td>
                  <Table.Td><Badge color={color} variant="light">{t(label)}</Badge></Table.Td>
                  {all && <Table.Td className="nowrap">{l.username}</Table.Td>}
                  <Table.Td className="nowrap">{l.token_name}</Table.Td>
                  <Table.Td className="nowrap">
                    {l.model_name}
                    {stream ? <Badge ml={4} size="xs" variant="outline">{t('stream')}</Badge> : null}
                  </Table.Td>
                  {all && <Table.Td>{(l.channel ?? l.channel_id) || ''}</Table.Td>}
                  <Table.Td className="nowrap">{l.type === 2 ? `${l.prompt_tokens ?? 0} + ${l.completion_tokens ?? 0}` : ''}</Table.Td>
                  <Table.Td className="nowrap">{l.quota !== undefined ? fmtQuota(l.quota) : ''}</Table.Td>
                  <Table.Td className="nowrap">
                    {elapsed !== undefined && elapsed > 0 ? `${elapsed} ms` : ''}
                    {stream && first !== undefined && first > 0 && (
                      <Text size="xs" c="dimmed">
                        {t('first token {n} ms', { n: first })}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td miw={200} maw={360}>
                    {l.type === 2 ? (
                      <Group gap={6} wrap="nowrap">
                        <Text size="xs" c="dimmed" className="mono">{l.request_id}</Text>
                        {l.content && (
                          <Button size="compact-xs" variant="light" onClick={() => setDetail(l)} data-testid="log-detail-open">{t('View')}</Button>
                        )}
                      </Group>
                    ) : (
                      <Tooltip label={[l.request_id, l.ip].filter(Boolean).join(' · ')} disabled={!l.request_id && !l.ip} multiline maw={360}>
                        <Text size="xs" className="pre-wrap" style={{ overflowWrap: 'anywhere' }}>{logMessage(l.code, l.params, l.content ?? '', t)}</Text>
                      </Tooltip>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
            {!rows.length && <EmptyRow cols={10} loading={loading} text={t('No logs match.')} />}
          </Table.Tbody>
        </Table>
      </Paper>
      <Modal opened={!!detail} onClose={() => setDetail(null)} title={t('Call details')} size="xl">
        {detail && <LogDetail log={detail} />}
      </Modal>
      <Pager page={page} pageSize={pageSize} count={rows.length} total={total} hasMore={hasMore} onPage={setPage} onPageSize={(n) => { setPageSize(n); setPage(0); }} />
      {isAdmin && (
        <Paper withBorder p="sm" radius="md">
          <Group align="flex-end" gap="xs">
            <TextInput
              size="xs"
              type="datetime-local"
              label={t('Delete every log row before')}
              value={purgeBefore}
              onChange={(e) => setPurgeBefore(e.currentTarget.value)}
            />
            <ConfirmButton size="xs" color="red" variant="light" disabled={!purgeBefore} question={t('Delete all log rows before this time, for every user?')} onConfirm={purge}>
              {t('Delete old logs')}
            </ConfirmButton>
          </Group>
        </Paper>
      )}
    </Stack>
  );
}

/** LogDetail shows one consume row: its figures and the stored request and answer. */
function LogDetail({ log }: { log: Log }) {
  const { t } = useI18n();
  const { fmtQuota } = useApp();
  const parts = splitContent(log.content ?? '');
  return (
    <Stack gap="sm" data-testid="log-detail">
      <Text size="sm">
        {[log.model_name, log.token_name, `${log.prompt_tokens ?? 0} + ${log.completion_tokens ?? 0}`, fmtQuota(log.quota ?? 0), log.request_id, log.ip].filter(Boolean).join(' · ')}
      </Text>
      {parts ? (
        <>
          <Text fw={600} size="sm">{t('Request')}</Text>
          <Code block className="pre-wrap" data-testid="log-detail-request">{parts.request}</Code>
          <Text fw={600} size="sm">{t('Answer')}</Text>
          <Code block className="pre-wrap" data-testid="log-detail-answer">{parts.answer}</Code>
          <Text size="xs" c="dimmed">{t('Keys and other secrets in the request are replaced by [redacted] before it is stored.')}</Text>
        </>
      ) : (
        <Code block className="pre-wrap">{log.content}</Code>
      )}
    </Stack>
  );
}
