import { useEffect, useMemo, useState } from 'react';
import {
  Group, Button, Table, TextInput, Modal, Stack, Alert, Text, TagsInput, Paper, Select, Textarea, NumberInput, Tooltip, Menu, Checkbox, Badge, Anchor,
} from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api, request } from '../api';
import { fmtTime, jsonObjectError, notifyError, notifyOk } from '../util';
import { modelNames, splitList } from '../models';
import { defaultTestModel, findType, typeName, useChannelTypes } from '../channelTypes';
import Pager from '../components/Pager';
import { usePagedList } from '../usePagedList';
import { useSubmit } from '../useSubmit';
import StatusBadge from '../components/StatusBadge';
import ConfirmButton from '../components/ConfirmButton';
import { EmptyRow, ListHeader, RowActions } from '../components/TableParts';
import { DeletePicked, SelectAllHeader, SelectCell, useSelection } from '../components/Selection';
import { DISABLED, ENABLED } from '../status';
import KeyStates from '../components/KeyStates';
import { channelCount, keyCounts, keyLines, keyMode, keyModeError, type KeyMode, type KeyView } from '../channelKeys';
import { MAX_LIMIT, rateSummary } from '../limits';

export interface Channel {
  id: number;
  type: number;
  name: string;
  key?: string;
  status: number;
  priority?: number;
  weight?: number;
  base_url?: string | null;
  models?: string;
  group?: string;
  model_mapping?: string | null;
  config?: string | null;
  other?: string | null;
  used_quota?: number;
  response_time?: number;
  test_time?: number;
  balance?: number;
  balance_updated_time?: number;
  created_time?: number;
  in_flight?: number;
  inflight?: number;
  max_inflight?: number;
  test_model?: string;
  rpm_limit?: number;
  tpm_limit?: number;
  multi_key_mode?: string;
  /** keys lists a multi-key channel's keys, masked, with their state. */
  keys?: KeyView[];
  demoted?: boolean;
}

interface Form {
  id?: number;
  type: number;
  name: string;
  key: string;
  base_url: string;
  other: string;
  models: string[];
  group: string[];
  model_mapping: string;
  config: string;
  priority: number;
  weight: number;
  max_inflight: number;
  test_model: string;
  rpm_limit: number;
  tpm_limit: number;
  /** multi keeps the key lines as the keys of one channel. */
  multi: boolean;
  rotation: Exclude<KeyMode, ''>;
  /** keys are the saved channel's keys, shown while editing it. */
  keys: KeyView[];
}

/** FieldErrors are the form's own checks, shown under their fields. */
type FieldErrors = Partial<Record<'type' | 'name' | 'key' | 'base_url' | 'models' | 'test_model', string>>;

const emptyForm: Form = {
  type: 1,
  name: '',
  key: '',
  base_url: '',
  other: '',
  models: [],
  group: ['default'],
  model_mapping: '',
  config: '',
  priority: 0,
  // 1, not 0: a channel of weight 0 never serves while another channel in
  // its tier has weight, which surprised people adding a second channel.
  weight: 1,
  max_inflight: 0,
  test_model: '',
  rpm_limit: 0,
  tpm_limit: 0,
  multi: false,
  rotation: 'random',
  keys: [],
};

/** mappingError checks a model mapping: a JSON object whose values are model names. */
function mappingError(s: string): string | null {
  const e = jsonObjectError(s);
  if (e) return e;
  if (!s.trim()) return null;
  const o = JSON.parse(s) as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) if (typeof v !== 'string') return `"${k}" must map to a string`;
  return null;
}

/** rtColor grades a test's response time: quick, slow, very slow. */
function rtColor(c: Channel): string | undefined {
  if (!c.test_time) return 'dimmed';
  const ms = c.response_time ?? 0;
  if (ms < 1000) return 'green';
  if (ms < 3000) return 'orange';
  return 'red';
}

/** responseTime shows a tested channel's time; an upstream that answered within the millisecond shows "<1 ms", not "untested". */
function responseTime(c: Channel): string {
  if (!c.test_time) return '—';
  return c.response_time ? `${c.response_time} ms` : '<1 ms';
}

function inFlight(c: Channel): number | undefined {
  return c.in_flight ?? c.inflight;
}

export default function Channels() {
  const { fmtQuota } = useApp();
  const { t } = useI18n();
  const { rows, total, page, setPage, pageSize, setPageSize, keyword, setKeyword, search, loading, load, act } = usePagedList<Channel>('/api/channel/');
  const sel = useSelection(rows);
  const [form, setForm] = useState<Form | null>(null);
  const submit = useSubmit();
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const types = useChannelTypes(notifyError);
  const [testing, setTesting] = useState<number | null>(null);
  const [allModels, setAllModels] = useState<string[]>([]);
  const [groups, setGroups] = useState<string[]>(['default']);
  const [keysOf, setKeysOf] = useState<Channel | null>(null);


  useEffect(() => {
    // Suggestions for the form; a failure here is shown but does not block editing.
    api<unknown>('GET', '/api/channel/models').then((d) => setAllModels(modelNames(d))).catch(notifyError);
    api<unknown>('GET', '/api/group/')
      .then((d) => Array.isArray(d) && setGroups(d.map(String)))
      .catch(notifyError);
  }, []);

  const typeModels = useMemo(() => (form ? findType(types, form.type)?.models ?? [] : []), [form, types]);
  const modelChoices = useMemo(() => [...new Set([...typeModels, ...allModels])], [typeModels, allModels]);

  const openCreate = () => {
    submit.setError('');
    setFieldErrors({});
    setForm({ ...emptyForm });
  };

  const openEdit = async (c: Channel) => {
    submit.setError('');
    setFieldErrors({});
    try {
      const full = await api<Channel>('GET', `/api/channel/${c.id}`);
      setForm({
        id: full.id,
        type: full.type,
        name: full.name,
        key: '',
        base_url: full.base_url ?? '',
        other: full.other ?? '',
        models: splitList(full.models),
        group: splitList(full.group),
        model_mapping: full.model_mapping ?? '',
        config: full.config ?? '',
        priority: full.priority ?? 0,
        weight: full.weight ?? 0,
        max_inflight: full.max_inflight ?? 0,
        test_model: full.test_model ?? '',
        rpm_limit: full.rpm_limit ?? 0,
        tpm_limit: full.tpm_limit ?? 0,
        multi: keyMode(full.multi_key_mode) !== '',
        rotation: keyMode(full.multi_key_mode) || 'random',
        keys: full.keys ?? [],
      });
    } catch (e) {
      notifyError(e);
    }
  };

  const save = async () => {
    if (!form) return;
    submit.setError('');
    const ct = findType(types, form.type);
    const fe: FieldErrors = {};
    if (!ct) fe.type = t('This server does not relay to channels of type {type}.', { type: form.type });
    if (!form.name.trim()) fe.name = t('Name is required.');
    const ke = keyModeError(form, form.keys.length || (form.id ? 1 : 0), t);
    if (ke) fe.key = ke;
    if (ct?.base_url_required && !form.base_url.trim()) fe.base_url = t('This channel type needs a base URL.');
    if (!form.models.length) fe.models = t('Pick at least one model.');
    if (form.test_model && !form.models.includes(form.test_model)) fe.test_model = t('The test model must be one of the channel’s models.');
    setFieldErrors(fe);
    if (Object.keys(fe).length) return;
    const me = mappingError(form.model_mapping);
    if (me) return submit.setError(t('Model mapping is not valid: {e}', { e: me }));
    const ce = jsonObjectError(form.config);
    if (ce) return submit.setError(t('Config is not valid JSON: {e}', { e: ce }));
    const body: Record<string, unknown> = {
      type: form.type,
      name: form.name.trim(),
      base_url: form.base_url.trim(),
      other: form.other.trim(),
      models: form.models.join(','),
      group: (form.group.length ? form.group : ['default']).join(','),
      model_mapping: form.model_mapping.trim(),
      config: form.config.trim(),
      priority: form.priority,
      weight: form.weight,
      max_inflight: form.max_inflight,
      test_model: form.test_model,
      rpm_limit: form.rpm_limit,
      tpm_limit: form.tpm_limit,
      multi_key_mode: form.multi ? form.rotation : '',
    };
    if (form.key.trim()) body.key = form.multi ? keyLines(form.key).join('\n') : form.key.trim();
    await submit.run(async () => {
      const n = form.id ? 1 : channelCount(form);
      if (form.id) await api('PUT', '/api/channel/', { id: form.id, ...body });
      else await api('POST', '/api/channel/', body);
      notifyOk(n > 1 ? t('Saved {n} channels', { n }) : t('Saved'));
      setForm(null);
      load();
    });
  };

  const setStatus = (c: Channel, status: number) =>
    // Only the status is sent: PUT changes just the fields it is given,
    // and echoing the row back would overwrite live figures such as
    // used_quota with the stale ones this page loaded.
    act(() => api('PUT', '/api/channel/', { id: c.id, status }), status === ENABLED ? t('Enabled') : t('Disabled'));

  const test = async (c: Channel, model?: string) => {
    setTesting(c.id);
    try {
      const env = await request<unknown>('GET', `/api/channel/test/${c.id}${model ? `?model=${encodeURIComponent(model)}` : ''}`);
      const secs = typeof env.time === 'number' ? env.time : undefined;
      const m = model || c.test_model || defaultTestModel(splitList(c.models)) || '';
      notifyOk(secs !== undefined ? t('{name}: test of {model} passed in {s} s', { name: c.name, model: m, s: secs.toFixed(2) }) : t('{name}: test passed', { name: c.name }));
    } catch (e) {
      notifyError(new Error(`${c.name}: ${(e as Error).message}`));
    } finally {
      setTesting(null);
      load();
    }
  };

  const testAll = async () => {
    try {
      await api('GET', '/api/channel/test');
      notifyOk(t('Testing all channels in the background; refresh to see the results.'));
    } catch (e) {
      notifyError(e);
    }
  };

  const updateBalance = async (c: Channel) => {
    try {
      const env = await request('GET', `/api/channel/update_balance/${c.id}`);
      notifyOk(
        typeof env.balance === 'number'
          ? t('{name}: balance ${b}', { name: c.name, b: env.balance.toFixed(2) })
          : t('Balance updated'),
      );
      load();
    } catch (e) {
      notifyError(new Error(`${c.name}: ${(e as Error).message}`));
    }
  };

  // Brings back one key its upstream had called dead; the reply is the channel's new view.
  const enableKey = async (c: { id?: number }, index: number) => {
    if (!c.id) return;
    try {
      const v = await api<Channel>('POST', `/api/channel/${c.id}/keys/${index}/enable`);
      notifyOk(t('Key {n} enabled', { n: index + 1 }));
      setKeysOf((k) => (k && k.id === v.id ? v : k));
      setForm((f) => (f && f.id === v.id ? { ...f, keys: v.keys ?? [] } : f));
      load();
    } catch (e) {
      notifyError(e);
    }
  };

  // Adds the models the channel's provider offers its key: the key typed in the form (a new
  // channel, or a saved one given a new key), else the saved channel's. Nothing is saved until Save.
  const [fetching, setFetching] = useState(false);
  const fetchModels = async (f: Form) => {
    setFetching(true);
    try {
      const got = f.key.trim()
        ? await api<string[]>('POST', '/api/channel/fetch_models', { type: f.type, key: f.key, base_url: f.base_url.trim(), config: f.config.trim(), other: f.other })
        : await api<string[]>('GET', `/api/channel/fetch_models/${f.id}`);
      setForm((cur) => (cur && cur.id === f.id ? { ...cur, models: [...new Set([...cur.models, ...(got ?? [])])] } : cur));
      const n = (got ?? []).length;
      notifyOk(n === 1 ? t('1 model from the upstream') : t('{n} models from the upstream', { n }));
    } catch (e) {
      notifyError(e);
    } finally {
      setFetching(false);
    }
  };

  const remove = (c: Channel) =>
    act(() => api('DELETE', `/api/channel/${c.id}`), t('Deleted'));

  // POST /api/channel/copy/:id makes a channel with the same settings and key, named with "_copy" appended.
  const copy = (c: Channel) =>
    act(() => api('POST', `/api/channel/copy/${c.id}`), t('Copied {name}', { name: c.name }));

  const removeDisabled = async () => {
    try {
      const n = await api<number>('DELETE', '/api/channel/disabled');
      notifyOk(t('Deleted {n} disabled channels', { n: typeof n === 'number' ? n : 0 }));
      load();
    } catch (e) {
      notifyError(e);
    }
  };

  // POST /api/channel/fix rebuilds the abilities table (SQL reports read it; the relay does not).
  const fixAbilities = async () => {
    try {
      const d = await api<{ success?: number; fails?: number }>('POST', '/api/channel/fix');
      notifyOk(t('Abilities rebuilt for {n} channels, {f} failed', { n: d?.success ?? 0, f: d?.fails ?? 0 }));
    } catch (e) {
      notifyError(e);
    }
  };

  const ct = form ? findType(types, form.type) ?? null : null;

  // What the key field does, in words, for a new channel or a saved one.
  const keyHelp = (f: Form) => {
    if (f.id) return f.multi ? t('Leave empty to keep the current keys; new keys replace them all, one per line.') : t('Leave empty to keep the current key.');
    return f.multi ? t('One key per line; they all serve this one channel.') : t('One key per line creates one channel per key.');
  };

  return (
    <Stack>
      <ListHeader title={t('Channels')} placeholder={t('Search by name, id or key')} keyword={keyword} setKeyword={setKeyword} onSearch={search}>
        <Button size="xs" variant="default" onClick={testAll}>{t('Test all')}</Button>
        <Tooltip label={t('Rebuild the abilities table (who serves which model to which group) from the channels, after the database was edited by hand or brought over.')} multiline w={280}>
          <Button size="xs" variant="default" onClick={fixAbilities}>{t('Fix abilities')}</Button>
        </Tooltip>
        <ConfirmButton size="xs" variant="light" color="red" question={t('Delete every disabled channel?')} onConfirm={removeDisabled}>
          {t('Delete disabled')}
        </ConfirmButton>
        <DeletePicked sel={sel} path="/api/channel/batch" onDone={load} />
        <Button size="xs" onClick={openCreate} data-testid="channel-create">{t('New channel')}</Button>
      </ListHeader>
      <Paper withBorder radius="md" className="table-scroll">
        <Table striped highlightOnHover verticalSpacing="xs" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <SelectAllHeader sel={sel} />
              <Table.Th>ID</Table.Th>
              <Table.Th>{t('Name')}</Table.Th>
              <Table.Th>{t('Type')}</Table.Th>
              <Table.Th>{t('Status')}</Table.Th>
              <Table.Th>{t('Group')}</Table.Th>
              <Table.Th>{t('Priority')}</Table.Th>
              <Table.Th>{t('Weight')}</Table.Th>
              <Table.Th>{t('Response time')}</Table.Th>
              <Table.Th>{t('In flight')}</Table.Th>
              <Table.Th>{t('Used')}</Table.Th>
              <Table.Th>{t('Balance')}</Table.Th>
              <Table.Th>{t('Actions')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((c) => (
              <Table.Tr key={c.id} data-testid="channel-row">
                <SelectCell sel={sel} id={c.id} name={c.name} />
                <Table.Td>{c.id}</Table.Td>
                <Table.Td className="nowrap">
                  <Tooltip label={splitList(c.models).join(', ')} multiline maw={420} disabled={!c.models}>
                    <span>{c.name}</span>
                  </Tooltip>
                  <Text size="xs" c="dimmed">
                    {splitList(c.models).length === 1 ? t('1 model') : t('{n} models', { n: splitList(c.models).length })}
                  </Text>
                  {!!c.keys?.length && (
                    <Anchor component="button" type="button" size="xs" c={keyCounts(c.keys).disabled ? 'red' : undefined} onClick={() => setKeysOf(c)} data-testid="channel-keys-open">
                      {keyCounts(c.keys).disabled
                        ? t('{n} keys, {d} disabled', { n: keyCounts(c.keys).total, d: keyCounts(c.keys).disabled })
                        : t('{n} keys', { n: keyCounts(c.keys).total })}
                    </Anchor>
                  )}
                </Table.Td>
                <Table.Td className="nowrap">{typeName(types, c.type)}</Table.Td>
                <Table.Td className="nowrap">
                  <StatusBadge kind="channel" status={c.status} />
                  {c.demoted && (
                    <Tooltip label={t('Failing: serves below every other tier until a test passes.')}>
                      <Badge color="orange" variant="outline" ml={4} data-testid="channel-demoted">{t('Demoted')}</Badge>
                    </Tooltip>
                  )}
                </Table.Td>
                <Table.Td>{c.group}</Table.Td>
                <Table.Td>{c.priority ?? 0}</Table.Td>
                <Table.Td>{c.weight ?? 0}</Table.Td>
                <Table.Td className="nowrap" data-testid="channel-response-time">
                  <Tooltip label={t('Tested {time}', { time: fmtTime(c.test_time) })} disabled={!c.test_time}>
                    <Text size="sm" c={rtColor(c)}>{responseTime(c)}</Text>
                  </Tooltip>
                </Table.Td>
                <Table.Td className="nowrap">
                  {inFlight(c) ?? '—'}
                  {c.max_inflight ? ` / ${c.max_inflight}` : ''}
                  {rateSummary({ rpm_limit: c.rpm_limit, tpm_limit: c.tpm_limit }, t).length > 0 && (
                    <Text size="xs" c="dimmed" data-testid="channel-caps">{rateSummary({ rpm_limit: c.rpm_limit, tpm_limit: c.tpm_limit }, t).join(' · ')}</Text>
                  )}
                </Table.Td>
                <Table.Td className="nowrap">{fmtQuota(c.used_quota)}</Table.Td>
                <Table.Td className="nowrap">
                  <Tooltip label={t('Click to update')}>
                    <Button size="compact-xs" variant="subtle" onClick={() => updateBalance(c)}>
                      {c.balance ? `$${c.balance.toFixed(2)}` : '—'}
                    </Button>
                  </Tooltip>
                </Table.Td>
                <Table.Td>
                  <RowActions
                    status={c.status === 3 ? DISABLED : c.status}
                    onStatus={(next) => setStatus(c, next)}
                    onEdit={() => openEdit(c)}
                    deleteQuestion={t('Delete channel {name}?', { name: c.name })}
                    onDelete={() => remove(c)}
                  >
                    <Button.Group>
                      <Button size="compact-xs" variant="default" loading={testing === c.id} onClick={() => test(c)} data-testid="channel-test">{t('Test')}</Button>
                      <Menu position="bottom-end" withinPortal>
                        <Menu.Target>
                          <Button size="compact-xs" variant="default" aria-label={t('Test with a model')} data-testid="channel-test-pick">▾</Button>
                        </Menu.Target>
                        <Menu.Dropdown mah={320} style={{ overflowY: 'auto' }}>
                          <Menu.Label>{t('Test with a model')}</Menu.Label>
                          {splitList(c.models).map((m) => (
                            <Menu.Item key={m} onClick={() => test(c, m)}>{m}</Menu.Item>
                          ))}
                        </Menu.Dropdown>
                      </Menu>
                    </Button.Group>
                    <Button size="compact-xs" variant="default" onClick={() => copy(c)} data-testid="channel-copy">{t('Copy')}</Button>
                  </RowActions>
                </Table.Td>
              </Table.Tr>
            ))}
            {!rows.length && <EmptyRow cols={13} loading={loading} text={t('No channels yet.')} />}
          </Table.Tbody>
        </Table>
      </Paper>
      <Pager page={page} pageSize={pageSize} count={rows.length} total={total} onPage={setPage} onPageSize={setPageSize} />

      <Modal opened={!!form} onClose={() => setForm(null)} title={form?.id ? t('Edit channel') : t('New channel')} size="lg">
        {form && types && (
          <Stack>
            <Select
              label={t('Type')}
              searchable
              allowDeselect={false}
              data={types.map((c) => ({ value: String(c.type), label: c.name }))}
              value={String(form.type)}
              error={fieldErrors.type}
              onChange={(v) => {
                const next = findType(types, Number(v));
                setForm({ ...form, type: Number(v), other: next?.other ? form.other || next.other_default : '' });
              }}
              data-testid="channel-type"
            />
            <TextInput label={t('Name')} value={form.name} error={fieldErrors.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} data-testid="channel-name" />
            <TextInput
              label={t('Base URL')}
              description={ct?.base_url_required ? t('Required for this type.') : t('Optional; leave empty for the provider default.')}
              placeholder={ct?.base_url || 'https://example.com'}
              value={form.base_url}
              error={fieldErrors.base_url}
              onChange={(e) => setForm({ ...form, base_url: e.currentTarget.value })}
              data-testid="channel-base-url"
            />
            {ct?.other && (
              <TextInput
                label={ct.other}
                placeholder={ct.other_default}
                value={form.other}
                onChange={(e) => setForm({ ...form, other: e.currentTarget.value })}
              />
            )}
            <Textarea
              label={form.multi ? t('Keys') : t('Key')}
              error={fieldErrors.key}
              description={[keyHelp(form), ct?.key_hint].filter(Boolean).join(' ')}
              autosize
              minRows={2}
              maxRows={12}
              value={form.key}
              onChange={(e) => setForm({ ...form, key: e.currentTarget.value })}
              data-testid="channel-key"
            />
            <Group align="flex-end" gap="md">
              <Checkbox
                label={t('One channel with several keys (one per line)')}
                description={t('The channel rotates its keys; a key its upstream calls dead is disabled on its own while the others serve.')}
                checked={form.multi}
                onChange={(e) => setForm({ ...form, multi: e.currentTarget.checked })}
                style={{ flex: 1 }}
                data-testid="channel-multi-key"
              />
              {form.multi && (
                <Select
                  label={t('Key rotation')}
                  data={[
                    { value: 'random', label: t('At random') },
                    { value: 'polling', label: t('In turn') },
                  ]}
                  value={form.rotation}
                  allowDeselect={false}
                  onChange={(v) => setForm({ ...form, rotation: v === 'polling' ? 'polling' : 'random' })}
                  w={160}
                  data-testid="channel-key-mode"
                />
              )}
            </Group>
            {form.keys.length > 0 && <KeyStates keys={form.keys} onEnable={(i) => enableKey(form, i)} />}
            <TagsInput label={t('Groups')} data={groups} value={form.group} onChange={(v) => setForm({ ...form, group: v })} />
            <TagsInput
              label={t('Models')}
              data={modelChoices}
              value={form.models}
              onChange={(v) => setForm({ ...form, models: v, test_model: v.includes(form.test_model) ? form.test_model : '' })}
              clearable
              maxDropdownHeight={240}
              error={fieldErrors.models}
              data-testid="channel-models"
            />
            <Group gap="xs">
              <Button size="xs" variant="default" disabled={!typeModels.length} onClick={() => setForm({ ...form, models: [...new Set([...form.models, ...typeModels])] })}>
                {t('Add the type’s default models')}
              </Button>
              <Tooltip label={t('Enter the key first: the models are asked of the provider with it.')} disabled={!!form.id || !!form.key.trim()}>
                <Button size="xs" variant="default" disabled={!form.id && !form.key.trim()} loading={fetching} onClick={() => fetchModels(form)} data-testid="channel-fetch-models">
                  {t('Add the upstream’s models')}
                </Button>
              </Tooltip>
              <Button size="xs" variant="default" onClick={() => setForm({ ...form, models: [], test_model: '' })}>{t('Clear models')}</Button>
            </Group>
            <Select
              label={t('Test model')}
              description={t('The model the Test button and the periodic tests send. Empty: the first chat model of the list ({model}).', { model: defaultTestModel(form.models) ?? '—' })}
              data={form.models}
              value={form.test_model || null}
              clearable
              searchable
              error={fieldErrors.test_model}
              onChange={(v) => setForm({ ...form, test_model: v ?? '' })}
              data-testid="channel-test-model"
            />
            <Textarea
              label={t('Model mapping')}
              description={t('JSON object from requested model to the upstream model, e.g. {"gpt-4o": "gpt-4o-2024-08-06"}')}
              autosize
              minRows={2}
              classNames={{ input: 'mono' }}
              value={form.model_mapping}
              error={mappingError(form.model_mapping)}
              onChange={(e) => setForm({ ...form, model_mapping: e.currentTarget.value })}
            />
            <Group grow>
              <NumberInput label={t('Priority')} description={t('Higher is tried first')} value={form.priority} allowDecimal={false} onChange={(v) => setForm({ ...form, priority: Number(v) || 0 })} />
              <NumberInput label={t('Weight')} description={t('Share inside a priority tier; 0 never serves while another channel in the tier has weight')} value={form.weight} min={0} allowDecimal={false} onChange={(v) => setForm({ ...form, weight: Number(v) || 0 })} />
              <NumberInput label={t('In-flight limit')} description={t('0 means no limit')} value={form.max_inflight} min={0} allowDecimal={false} onChange={(v) => setForm({ ...form, max_inflight: Number(v) || 0 })} />
            </Group>
            <Group grow align="flex-start">
              <NumberInput label={t('Requests per minute')} description={t('A channel at its cap is skipped for that call, like a busy one; 0 means no limit')} value={form.rpm_limit} min={0} max={MAX_LIMIT} allowDecimal={false} allowNegative={false} thousandSeparator="," onChange={(v) => setForm({ ...form, rpm_limit: Number(v) || 0 })} data-testid="channel-rpm_limit" />
              <NumberInput label={t('Tokens per minute')} description={t('Prompt plus completion tokens the channel serves per minute; 0 means no limit')} value={form.tpm_limit} min={0} max={MAX_LIMIT} allowDecimal={false} allowNegative={false} thousandSeparator="," onChange={(v) => setForm({ ...form, tpm_limit: Number(v) || 0 })} data-testid="channel-tpm_limit" />
            </Group>
            <Textarea
              label={t('Config (JSON)')}
              description={`${ct?.config.length ? t('This type reads these keys: {keys}', { keys: ct.config.join(', ') }) : t('Extra provider settings such as region; leave empty when not needed.')} ${t('Any type also takes "headers": {"Name": "value"}, sent on every call, and "proxy": "http://user:pass@host:port" (or socks5://), which its calls go through.')}`}
              autosize
              minRows={1}
              classNames={{ input: 'mono' }}
              value={form.config}
              error={jsonObjectError(form.config)}
              onChange={(e) => setForm({ ...form, config: e.currentTarget.value })}
            />
            {submit.error && <Alert color="red" data-testid="form-error">{submit.error}</Alert>}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setForm(null)}>{t('Cancel')}</Button>
              <Button onClick={save} loading={submit.busy} data-testid="channel-save">{t('Save')}</Button>
            </Group>
          </Stack>
        )}
      </Modal>

      <Modal opened={!!keysOf} onClose={() => setKeysOf(null)} title={keysOf ? t('Keys of {name}', { name: keysOf.name }) : ''} size="lg">
        {keysOf && (
          <Stack>
            <Text size="sm" c="dimmed">
              {keysOf.multi_key_mode === 'polling' ? t('Calls take the live keys in turn.') : t('Each call takes a live key at random.')}
            </Text>
            <KeyStates keys={keysOf.keys ?? []} onEnable={(i) => enableKey(keysOf, i)} />
            {keyCounts(keysOf.keys).disabled > 0 && (
              <Text size="xs" c="dimmed">{t('A key brought back that is still dead is disabled again by the first call that finds it so.')}</Text>
            )}
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
