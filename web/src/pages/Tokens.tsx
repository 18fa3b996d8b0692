import { useEffect, useState } from 'react';
import {
  Group, Button, Table, TextInput, Modal, Stack, Checkbox, Alert, Code, Text, TagsInput, ActionIcon, Paper, Select,
} from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api } from '../api';
import { copyText, fmtTime, fromLocalInput, notifyError, notifyOk, toLocalInput } from '../util';
import { modelNames, splitList } from '../models';
import Pager from '../components/Pager';
import { usePagedList } from '../usePagedList';
import { useSubmit } from '../useSubmit';
import StatusBadge from '../components/StatusBadge';
import { EmptyRow, ListHeader, RowActions } from '../components/TableParts';
import { DeletePicked, SelectAllHeader, SelectCell, useSelection } from '../components/Selection';
import { DISABLED, ENABLED } from '../status';
import QuotaInput from '../components/QuotaInput';
import { CopyIcon } from '../components/Icons';
import LimitFields from '../components/LimitFields';
import { LimitsCell } from '../components/LimitCells';
import { NO_LIMITS, limitBody, limitErrors, limitForm, type LimitErrors, type LimitForm, type Limited } from '../limits';

export interface Token extends Limited {
  id: number;
  name: string;
  key?: string;
  status: number;
  remain_quota: number;
  used_quota?: number;
  unlimited_quota: boolean;
  expired_time: number;
  created_time?: number;
  accessed_time?: number;
  models?: string | null;
  subnet?: string | null;
  group?: string;
}

interface Form {
  id?: number;
  name: string;
  remain_quota: number;
  unlimited_quota: boolean;
  never_expires: boolean;
  expires: string;
  models: string[];
  subnet: string;
  group: string;
  limits: LimitForm;
}

const empty: Form = {
  name: '',
  remain_quota: 500000,
  unlimited_quota: false,
  never_expires: true,
  expires: '',
  models: [],
  subnet: '',
  group: '',
  limits: NO_LIMITS,
};

/**
 * Spendable is what a token can really spend: its own remaining quota,
 * capped by what its owner has left (the relay refuses at whichever runs
 * out first). A cap or an unlimited token says so underneath.
 */
function Spendable({ token, ownerQuota, fmtQuota }: { token: Token; ownerQuota: number; fmtQuota: (q: number) => string }) {
  const { t } = useI18n();
  const owner = Math.max(0, ownerQuota);
  if (token.unlimited_quota) {
    return (
      <>
        {fmtQuota(owner)}
        <Text size="xs" c="dimmed">{t('Unlimited token: your quota')}</Text>
      </>
    );
  }
  const capped = owner < token.remain_quota;
  return (
    <>
      {fmtQuota(Math.min(token.remain_quota, owner))}
      {capped && <Text size="xs" c="orange">{t('Capped by your quota (token: {q})', { q: fmtQuota(token.remain_quota) })}</Text>}
    </>
  );
}

export default function Tokens() {
  const { fmtQuota, isAdmin, user, refreshUser } = useApp();
  // The groups the form offers: every group for admins, the usable ones (UserUsableGroups) for others.
  const [groups, setGroups] = useState<{ value: string; label: string }[]>([]);
  const { t } = useI18n();
  const { rows, total, page, setPage, pageSize, setPageSize, keyword, setKeyword, search, loading, load, act } = usePagedList<Token>('/api/token/');
  const sel = useSelection(rows);
  const [form, setForm] = useState<Form | null>(null);
  const submit = useSubmit();
  const [newKey, setNewKey] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<{ name?: string; expires?: string; limits?: LimitErrors }>({});
  const [models, setModels] = useState<string[]>([]);


  useEffect(() => {
    // The owner's quota caps every token's; read it fresh.
    refreshUser().catch(notifyError);
    api<unknown>('GET', '/api/user/available_models')
      .then((d) => setModels(modelNames(d)))
      .catch(() => setModels([])); // suggestions only; the field still takes any name
    // Admins give a token any group; users their own or one UserUsableGroups offers.
    if (isAdmin)
      api<unknown>('GET', '/api/group/')
        .then((d) => Array.isArray(d) && setGroups(d.map((g) => ({ value: String(g), label: String(g) }))))
        .catch(notifyError);
    else
      api<Record<string, { ratio: number; desc: string }>>('GET', '/api/user/self/groups')
        .then((d) => {
          const names = Object.keys(d ?? {}).filter((g) => g !== user?.group).sort();
          setGroups(names.map((g) => ({ value: g, label: `${g}${d[g].desc ? ` · ${d[g].desc}` : ''} (×${d[g].ratio})` })));
        })
        .catch(notifyError);
  }, [isAdmin, refreshUser, user?.group]);

  const openCreate = () => {
    submit.setError('');
    setFieldErrors({});
    setForm({ ...empty });
  };
  const openEdit = (tk: Token) => {
    submit.setError('');
    setFieldErrors({});
    setForm({
      id: tk.id,
      name: tk.name,
      remain_quota: tk.remain_quota,
      unlimited_quota: tk.unlimited_quota,
      never_expires: tk.expired_time === -1 || !tk.expired_time,
      expires: tk.expired_time > 0 ? toLocalInput(tk.expired_time) : '',
      models: splitList(tk.models),
      subnet: tk.subnet ?? '',
      group: tk.group ?? '',
      limits: limitForm(tk),
    });
  };

  const save = async () => {
    if (!form) return;
    submit.setError('');
    const fe: typeof fieldErrors = {};
    if (!form.name.trim()) fe.name = t('Name is required.');
    const expired_time = form.never_expires ? -1 : fromLocalInput(form.expires);
    if (!expired_time) fe.expires = t('Pick an expiry time, or choose never.');
    const le = limitErrors(form.limits, t);
    if (Object.keys(le).length) fe.limits = le;
    setFieldErrors(fe);
    if (Object.keys(fe).length) return;
    const body: Record<string, unknown> = {
      name: form.name.trim(),
      remain_quota: form.remain_quota,
      unlimited_quota: form.unlimited_quota,
      expired_time,
      models: form.models.join(','),
      subnet: form.subnet.trim(),
      ...limitBody(form.limits),
    };
    // Sent only where the form shows the field, so a user's edit keeps a group an admin set.
    if (isAdmin || groups.length > 0) body.group = form.group;
    await submit.run(async () => {
      if (form.id) {
        await api('PUT', '/api/token/', { id: form.id, ...body });
        notifyOk(t('Saved'));
      } else {
        const data = await api<unknown>('POST', '/api/token/', body);
        const key =
          typeof data === 'string' ? data : data && typeof data === 'object' ? (data as { key?: string }).key ?? '' : '';
        setNewKey(key);
      }
      setForm(null);
      load();
    });
  };

  const setStatus = (tk: Token, status: number) =>
    act(() => api('PUT', '/api/token/?status_only=1', { id: tk.id, status }), status === ENABLED ? t('Enabled') : t('Disabled'));

  const remove = (tk: Token) =>
    act(() => api('DELETE', `/api/token/${tk.id}`), t('Deleted'));

  return (
    <Stack>
      <ListHeader title={t('Tokens')} placeholder={t('Search by name')} keyword={keyword} setKeyword={setKeyword} onSearch={search}>
        <DeletePicked sel={sel} path="/api/token/batch" onDone={load} />
        <Button size="xs" onClick={openCreate} data-testid="token-create">
          {t('New token')}
        </Button>
      </ListHeader>
      <Paper withBorder radius="md" className="table-scroll">
        <Table striped highlightOnHover verticalSpacing="xs" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <SelectAllHeader sel={sel} />
              <Table.Th>{t('Name')}</Table.Th>
              <Table.Th>{t('Key')}</Table.Th>
              <Table.Th>{t('Status')}</Table.Th>
              <Table.Th>{t('Used')}</Table.Th>
              <Table.Th>{t('Remaining')}</Table.Th>
              <Table.Th>{t('Limits')}</Table.Th>
              <Table.Th>{t('Created')}</Table.Th>
              <Table.Th>{t('Expires')}</Table.Th>
              <Table.Th>{t('Actions')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((tk) => (
              <Table.Tr key={tk.id} data-testid="token-row">
                <SelectCell sel={sel} id={tk.id} name={tk.name} />
                <Table.Td>{tk.name}</Table.Td>
                <Table.Td className="mono nowrap">{tk.key ?? ''}</Table.Td>
                <Table.Td><StatusBadge kind="token" status={tk.status} /></Table.Td>
                <Table.Td className="nowrap">{fmtQuota(tk.used_quota)}</Table.Td>
                <Table.Td className="nowrap" data-testid="token-spendable">
                  <Spendable token={tk} ownerQuota={user?.quota ?? 0} fmtQuota={fmtQuota} />
                </Table.Td>
                <Table.Td className="nowrap" data-testid="token-limits"><LimitsCell of={tk} /></Table.Td>
                <Table.Td className="nowrap">{fmtTime(tk.created_time)}</Table.Td>
                <Table.Td className="nowrap">{tk.expired_time === -1 ? t('Never') : fmtTime(tk.expired_time)}</Table.Td>
                <Table.Td>
                  <RowActions
                    status={tk.status === ENABLED ? ENABLED : DISABLED}
                    onStatus={(next) => setStatus(tk, next)}
                    onEdit={() => openEdit(tk)}
                    deleteQuestion={t('Delete token {name}?', { name: tk.name })}
                    onDelete={() => remove(tk)}
                  />
                </Table.Td>
              </Table.Tr>
            ))}
            {!rows.length && <EmptyRow cols={10} loading={loading} text={t('No tokens yet.')} />}
          </Table.Tbody>
        </Table>
      </Paper>
      <Pager page={page} pageSize={pageSize} count={rows.length} total={total} onPage={setPage} onPageSize={setPageSize} />

      <Modal opened={!!form} onClose={() => setForm(null)} title={form?.id ? t('Edit token') : t('New token')} size="lg">
        {form && (
          <Stack>
            <TextInput label={t('Name')} value={form.name} error={fieldErrors.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} data-testid="token-name" />
            <Checkbox label={t('Unlimited quota')} checked={form.unlimited_quota} onChange={(e) => setForm({ ...form, unlimited_quota: e.currentTarget.checked })} />
            <QuotaInput label={t('Quota')} value={form.remain_quota} disabled={form.unlimited_quota} onChange={(n) => setForm({ ...form, remain_quota: n })} />
            <Checkbox label={t('Never expires')} checked={form.never_expires} onChange={(e) => setForm({ ...form, never_expires: e.currentTarget.checked })} />
            {!form.never_expires && (
              <TextInput type="datetime-local" label={t('Expires at')} value={form.expires} error={fieldErrors.expires} onChange={(e) => setForm({ ...form, expires: e.currentTarget.value })} />
            )}
            <TagsInput
              label={t('Allowed models')}
              description={t('Empty allows every model.')}
              data={models}
              value={form.models}
              onChange={(v) => setForm({ ...form, models: v })}
              clearable
            />
            <TextInput
              label={t('Allowed subnets')}
              description={t('Comma-separated CIDRs, e.g. 10.0.0.0/8,192.168.1.0/24. Empty allows any address.')}
              value={form.subnet}
              onChange={(e) => setForm({ ...form, subnet: e.currentTarget.value })}
            />
            {(isAdmin || groups.length > 0) && (
              <Select
                label={t('Group')}
                description={t('Empty uses the owner’s group.')}
                data={[
                  { value: '', label: t('Owner’s group') },
                  ...groups,
                  ...(form.group && !groups.some((g) => g.value === form.group) ? [{ value: form.group, label: form.group }] : []),
                ]}
                data-testid="token-group"
                value={form.group}
                allowDeselect={false}
                onChange={(v) => setForm({ ...form, group: v ?? '' })}
              />
            )}
            <LimitFields value={form.limits} errors={fieldErrors.limits} onChange={(limits) => setForm({ ...form, limits })} testid="token" />
            {submit.error && <Alert color="red" data-testid="form-error">{submit.error}</Alert>}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setForm(null)}>{t('Cancel')}</Button>
              <Button onClick={save} loading={submit.busy} data-testid="token-save">{t('Save')}</Button>
            </Group>
          </Stack>
        )}
      </Modal>

      <Modal opened={newKey !== null} onClose={() => setNewKey(null)} title={t('Your new token')} closeOnClickOutside={false}>
        <Stack>
          <Alert color="yellow">{t('Copy this key now. It will not be shown again.')}</Alert>
          <Group wrap="nowrap" gap="xs">
            <Code block style={{ flex: 1, wordBreak: 'break-all' }} data-testid="new-token-key">{newKey}</Code>
            <ActionIcon
              variant="default"
              size="lg"
              aria-label={t('Copy')}
              onClick={() => newKey && copyText(newKey).then((ok) => (ok ? notifyOk(t('Copied')) : notifyError(t('Copy failed; select the key and copy it by hand.'))))}
            >
              <CopyIcon />
            </ActionIcon>
          </Group>
          <Group justify="flex-end">
            <Button onClick={() => setNewKey(null)}>{t('I have saved it')}</Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
