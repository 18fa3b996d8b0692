import { useState } from 'react';
import {
  Group, Button, Table, TextInput, Modal, Stack, Alert, Paper, NumberInput, Textarea,
} from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api } from '../api';
import { copyText, fmtTime, notifyError, notifyOk } from '../util';
import Pager from '../components/Pager';
import { usePagedList } from '../usePagedList';
import { useSubmit } from '../useSubmit';
import StatusBadge from '../components/StatusBadge';
import { EmptyRow, ListHeader, RowActions } from '../components/TableParts';
import { ENABLED } from '../status';
import QuotaInput from '../components/QuotaInput';
import ConfirmButton from '../components/ConfirmButton';

interface Redemption {
  id: number;
  name: string;
  key?: string;
  status: number;
  quota: number;
  created_time?: number;
  redeemed_time?: number;
  used_user_id?: number;
}

export default function Redemptions() {
  const { fmtQuota } = useApp();
  const { t } = useI18n();
  const { rows, total, page, setPage, pageSize, setPageSize, keyword, setKeyword, search, loading, load, act } = usePagedList<Redemption>('/api/redemption/');
  const [form, setForm] = useState<{ name: string; quota: number; count: number } | null>(null);
  const submit = useSubmit();
  const [codes, setCodes] = useState<string[] | null>(null);
  const [fieldErrors, setFieldErrors] = useState<{ name?: string; count?: string; quota?: string }>({});


  // DELETE /api/redemption/invalid sweeps the used and disabled codes; the top-ups' logs stay.
  const removeInvalid = async () => {
    try {
      const n = await api<number>('DELETE', '/api/redemption/invalid');
      notifyOk(t('Deleted {n} used or disabled codes', { n: typeof n === 'number' ? n : 0 }));
      load();
    } catch (e) {
      notifyError(e);
    }
  };

  const create = async () => {
    if (!form) return;
    submit.setError('');
    const fe: typeof fieldErrors = {};
    if (!form.name.trim()) fe.name = t('Name is required.');
    if (form.count < 1 || form.count > 100) fe.count = t('Count must be between 1 and 100.');
    if (form.quota <= 0) fe.quota = t('Quota must be above zero.');
    setFieldErrors(fe);
    if (Object.keys(fe).length) return;
    await submit.run(async () => {
      const data = await api<unknown>('POST', '/api/redemption/', { name: form.name.trim(), quota: form.quota, count: form.count });
      setCodes(Array.isArray(data) ? data.map(String) : typeof data === 'string' ? [data] : []);
      setForm(null);
      load();
    });
  };

  const setStatus = (r: Redemption, status: number) =>
    act(() => api('PUT', '/api/redemption/?status_only=1', { id: r.id, status }), status === ENABLED ? t('Enabled') : t('Disabled'));

  const remove = (r: Redemption) =>
    act(() => api('DELETE', `/api/redemption/${r.id}`), t('Deleted'));

  const copyAll = async () => {
    if (!codes) return;
    const ok = await copyText(codes.join('\n'));
    if (ok) notifyOk(t('Copied {n} codes', { n: codes.length }));
    else notifyError(t('Copy failed; select the codes and copy them by hand.'));
  };

  return (
    <Stack>
      <ListHeader title={t('Redemption codes')} placeholder={t('Search by id or name')} keyword={keyword} setKeyword={setKeyword} onSearch={search}>
        <ConfirmButton size="xs" variant="light" color="red" question={t('Delete every used or disabled code?')} onConfirm={removeInvalid}>
          {t('Delete used and disabled')}
        </ConfirmButton>
        <Button size="xs" onClick={() => { submit.setError(''); setFieldErrors({}); setForm({ name: '', quota: 500000, count: 1 }); }}>{t('New codes')}</Button>
      </ListHeader>
      <Paper withBorder radius="md" className="table-scroll">
        <Table striped highlightOnHover verticalSpacing="xs" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>ID</Table.Th>
              <Table.Th>{t('Name')}</Table.Th>
              <Table.Th>{t('Code')}</Table.Th>
              <Table.Th>{t('Status')}</Table.Th>
              <Table.Th>{t('Quota')}</Table.Th>
              <Table.Th>{t('Created')}</Table.Th>
              <Table.Th>{t('Redeemed')}</Table.Th>
              <Table.Th>{t('Actions')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>{r.id}</Table.Td>
                <Table.Td>{r.name}</Table.Td>
                <Table.Td className="mono nowrap">{r.key ?? ''}</Table.Td>
                <Table.Td><StatusBadge kind="redemption" status={r.status} /></Table.Td>
                <Table.Td className="nowrap">{fmtQuota(r.quota)}</Table.Td>
                <Table.Td className="nowrap">{fmtTime(r.created_time)}</Table.Td>
                <Table.Td className="nowrap">{fmtTime(r.redeemed_time)}</Table.Td>
                <Table.Td>
                  <RowActions
                    status={r.status}
                    onStatus={(next) => setStatus(r, next)}
                    deleteQuestion={t('Delete code {name}?', { name: r.name })}
                    onDelete={() => remove(r)}
                  >
                    {r.key && (
                      <Button size="compact-xs" variant="default" onClick={() => copyText(r.key!).then((ok) => (ok ? notifyOk(t('Copied')) : notifyError(t('Copy failed'))))}>
                        {t('Copy')}
                      </Button>
                    )}
                  </RowActions>
                </Table.Td>
              </Table.Tr>
            ))}
            {!rows.length && <EmptyRow cols={8} loading={loading} text={t('No redemption codes yet.')} />}
          </Table.Tbody>
        </Table>
      </Paper>
      <Pager page={page} pageSize={pageSize} count={rows.length} total={total} onPage={setPage} onPageSize={setPageSize} />

      <Modal opened={!!form} onClose={() => setForm(null)} title={t('New codes')}>
        {form && (
          <Stack>
            <TextInput label={t('Name')} value={form.name} error={fieldErrors.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} />
            <QuotaInput label={t('Quota per code')} value={form.quota} error={fieldErrors.quota} onChange={(n) => setForm({ ...form, quota: n })} />
            <NumberInput label={t('How many')} min={1} max={100} allowDecimal={false} value={form.count} error={fieldErrors.count} onChange={(v) => setForm({ ...form, count: Number(v) || 0 })} />
            {submit.error && <Alert color="red" data-testid="form-error">{submit.error}</Alert>}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setForm(null)}>{t('Cancel')}</Button>
              <Button onClick={create} loading={submit.busy}>{t('Create')}</Button>
            </Group>
          </Stack>
        )}
      </Modal>

      <Modal opened={codes !== null} onClose={() => setCodes(null)} title={t('New codes')} closeOnClickOutside={false}>
        {codes && (
          <Stack>
            <Alert color="yellow">{t('Copy these codes and hand them out. The list of redemption codes keeps showing them.')}</Alert>
            <Textarea readOnly autosize minRows={3} maxRows={14} classNames={{ input: 'mono' }} value={codes.join('\n')} data-testid="new-codes" />
            <Group justify="flex-end">
              <Button variant="default" onClick={copyAll}>{t('Copy all')}</Button>
              <Button onClick={() => setCodes(null)}>{t('Done')}</Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
