import { useEffect, useState } from 'react';
import {
  Group, Button, Table, TextInput, Modal, Stack, Alert, Text, Paper, Select, PasswordInput, Badge,
} from '@mantine/core';
import { useApp, ROLE_ADMIN, ROLE_ROOT, type User } from '../state';
import { useI18n } from '../i18n';
import { api } from '../api';
import { notifyError, notifyOk } from '../util';
import Pager from '../components/Pager';
import { usePagedList } from '../usePagedList';
import { useSubmit } from '../useSubmit';
import StatusBadge from '../components/StatusBadge';
import QuotaInput from '../components/QuotaInput';
import { EmptyRow, ListHeader, RowActions } from '../components/TableParts';
import { DISABLED, ENABLED } from '../status';
import LimitFields from '../components/LimitFields';
import { LimitsCell } from '../components/LimitCells';
import { limitBody, limitErrors, limitForm, type LimitErrors, type LimitForm } from '../limits';
import { BOUND_ID, outsideName } from '../outside';

/** BINDINGS are the outside accounts an admin can unbind (DELETE /api/user/:id/bindings/:type), in the order the form lists them. */
const BINDINGS = ['github', 'oidc', 'wechat', 'lark'] as const;
type Binding = (typeof BINDINGS)[number];

function RoleBadge({ role }: { role: number }) {
  const { t } = useI18n();
  if (role >= ROLE_ROOT) return <Badge color="red" variant="light">{t('Root')}</Badge>;
  if (role >= ROLE_ADMIN) return <Badge color="orange" variant="light">{t('Admin')}</Badge>;
  return <Badge color="gray" variant="light">{t('User')}</Badge>;
}

interface EditForm {
  id: number;
  username: string;
  display_name: string;
  password: string;
  email: string;
  group: string;
  quota: number;
  limits: LimitForm;
  /** The ids of the outside accounts bound to the user ('' unbound). */
  bound: Record<Binding, string>;
}

export default function Users() {
  const { user: me, isRoot, fmtQuota } = useApp();
  const { t } = useI18n();
  const { rows, total, page, setPage, pageSize, setPageSize, keyword, setKeyword, search, loading, load, act } = usePagedList<User>('/api/user/');
  const [groups, setGroups] = useState<string[]>(['default']);
  const [create, setCreate] = useState<{ username: string; password: string; display_name: string } | null>(null);
  const [edit, setEdit] = useState<EditForm | null>(null);
  const submit = useSubmit();
  const [limitErrs, setLimitErrs] = useState<LimitErrors>({});


  useEffect(() => {
    api<unknown>('GET', '/api/group/')
      .then((d) => Array.isArray(d) && setGroups(d.map(String)))
      .catch(notifyError);
  }, []);

  const manage = (u: User, action: string) =>
    act(() => api('POST', '/api/user/manage', { username: u.username, action }), t('Done'));

  const openEdit = async (u: User) => {
    submit.setError('');
    setLimitErrs({});
    try {
      const full = await api<User>('GET', `/api/user/${u.id}`);
      setEdit({
        id: full.id,
        username: full.username,
        display_name: full.display_name ?? '',
        password: '',
        email: full.email ?? '',
        group: full.group || 'default',
        quota: full.quota,
        limits: limitForm(full),
        bound: Object.fromEntries(BINDINGS.map((b) => [b, full[BOUND_ID[b]] ?? ''])) as Record<Binding, string>,
      });
    } catch (e) {
      notifyError(e);
    }
  };

  const saveCreate = async () => {
    if (!create) return;
    await submit.run(async () => {
      await api('POST', '/api/user/', { ...create, username: create.username.trim() });
      notifyOk(t('User created'));
      setCreate(null);
      load();
    }, (!create.username.trim() || !create.password) && t('Enter a username and a password.'));
  };

  const saveEdit = async () => {
    if (!edit) return;
    submit.setError('');
    const le = limitErrors(edit.limits, t);
    setLimitErrs(le);
    if (Object.keys(le).length) return;
    await submit.run(async () => {
      const body: Record<string, unknown> = {
        id: edit.id,
        username: edit.username.trim(),
        display_name: edit.display_name,
        email: edit.email,
        group: edit.group,
        quota: edit.quota,
        ...limitBody(edit.limits),
      };
      if (edit.password) body.password = edit.password;
      await api('PUT', '/api/user/', body);
      notifyOk(t('Saved'));
      setEdit(null);
      load();
    });
  };

  // DELETE /api/user/:id/bindings/:type frees the outside account: it can then sign in anew or be bound by another user.
  const unbind = async (b: Binding) => {
    if (!edit) return;
    try {
      await api('DELETE', `/api/user/${edit.id}/bindings/${b}`);
      setEdit({ ...edit, bound: { ...edit.bound, [b]: '' } });
      notifyOk(t('Unbound'));
    } catch (e) {
      notifyError(e);
    }
  };

  // An admin acts only on users below their own role; root on everyone but root.
  const canManage = (u: User) => u.id !== me?.id && u.role < (me?.role ?? 0);

  return (
    <Stack>
      <ListHeader title={t('Users')} placeholder={t('Search by id, name or email')} keyword={keyword} setKeyword={setKeyword} onSearch={search}>
        <Button size="xs" onClick={() => { submit.setError(''); setCreate({ username: '', password: '', display_name: '' }); }}>{t('New user')}</Button>
      </ListHeader>
      <Paper withBorder radius="md" className="table-scroll">
        <Table striped highlightOnHover verticalSpacing="xs" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>ID</Table.Th>
              <Table.Th>{t('Username')}</Table.Th>
              <Table.Th>{t('Group')}</Table.Th>
              <Table.Th>{t('Role')}</Table.Th>
              <Table.Th>{t('Status')}</Table.Th>
              <Table.Th>{t('Remaining')}</Table.Th>
              <Table.Th>{t('Used')}</Table.Th>
              <Table.Th>{t('Limits')}</Table.Th>
              <Table.Th>{t('Requests')}</Table.Th>
              <Table.Th>{t('Actions')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((u) => (
              <Table.Tr key={u.id}>
                <Table.Td>{u.id}</Table.Td>
                <Table.Td>
                  <div>{u.username}</div>
                  {(u.display_name || u.email) && <Text size="xs" c="dimmed">{[u.display_name, u.email].filter(Boolean).join(' · ')}</Text>}
                </Table.Td>
                <Table.Td>{u.group}</Table.Td>
                <Table.Td><RoleBadge role={u.role} /></Table.Td>
                <Table.Td><StatusBadge kind="user" status={u.status} /></Table.Td>
                <Table.Td className="nowrap">{fmtQuota(u.quota)}</Table.Td>
                <Table.Td className="nowrap">{fmtQuota(u.used_quota)}</Table.Td>
                <Table.Td className="nowrap" data-testid="user-limits"><LimitsCell of={u} /></Table.Td>
                <Table.Td>{u.request_count ?? 0}</Table.Td>
                <Table.Td>
                  {/* Root may edit its own row (quota, group); the API allows only root that. */}
                  {isRoot && u.id === me?.id && (
                    <Button size="compact-xs" variant="default" onClick={() => openEdit(u)} data-testid="user-edit-self">{t('Edit')}</Button>
                  )}
                  {canManage(u) && (
                    <RowActions
                      status={u.status === ENABLED ? ENABLED : DISABLED}
                      onStatus={(next) => manage(u, next === ENABLED ? 'enable' : 'disable')}
                      onEdit={() => openEdit(u)}
                      deleteQuestion={t('Delete user {name}?', { name: u.username })}
                      onDelete={() => manage(u, 'delete')}
                    >
                      {isRoot && u.role < ROLE_ADMIN && (
                        <Button size="compact-xs" variant="default" onClick={() => manage(u, 'promote')}>{t('Make admin')}</Button>
                      )}
                      {isRoot && u.role >= ROLE_ADMIN && u.role < ROLE_ROOT && (
                        <Button size="compact-xs" variant="default" onClick={() => manage(u, 'demote')}>{t('Revoke admin')}</Button>
                      )}
                    </RowActions>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
            {!rows.length && <EmptyRow cols={10} loading={loading} text={t('No users found.')} />}
          </Table.Tbody>
        </Table>
      </Paper>
      <Pager page={page} pageSize={pageSize} count={rows.length} total={total} onPage={setPage} onPageSize={setPageSize} />

      <Modal opened={!!create} onClose={() => setCreate(null)} title={t('New user')}>
        {create && (
          <Stack>
            <TextInput label={t('Username')} value={create.username} onChange={(e) => setCreate({ ...create, username: e.currentTarget.value })} />
            <TextInput label={t('Display name')} value={create.display_name} onChange={(e) => setCreate({ ...create, display_name: e.currentTarget.value })} />
            <PasswordInput label={t('Password')} value={create.password} onChange={(e) => setCreate({ ...create, password: e.currentTarget.value })} />
            {submit.error && <Alert color="red" data-testid="form-error">{submit.error}</Alert>}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setCreate(null)}>{t('Cancel')}</Button>
              <Button onClick={saveCreate} loading={submit.busy}>{t('Create')}</Button>
            </Group>
          </Stack>
        )}
      </Modal>

      <Modal opened={!!edit} onClose={() => setEdit(null)} title={t('Edit user')} size="lg">
        {edit && (
          <Stack>
            <TextInput label={t('Username')} value={edit.username} onChange={(e) => setEdit({ ...edit, username: e.currentTarget.value })} />
            <TextInput label={t('Display name')} value={edit.display_name} onChange={(e) => setEdit({ ...edit, display_name: e.currentTarget.value })} />
            <PasswordInput label={t('New password')} description={t('Leave empty to keep the current password.')} value={edit.password} onChange={(e) => setEdit({ ...edit, password: e.currentTarget.value })} />
            <TextInput label={t('Email')} value={edit.email} onChange={(e) => setEdit({ ...edit, email: e.currentTarget.value })} />
            <Select label={t('Group')} data={[...new Set([...groups, edit.group])]} value={edit.group} allowDeselect={false} onChange={(v) => v && setEdit({ ...edit, group: v })} />
            <QuotaInput label={t('Quota left')} value={edit.quota} onChange={(n) => setEdit({ ...edit, quota: n })} />
            <LimitFields value={edit.limits} errors={limitErrs} onChange={(limits) => setEdit({ ...edit, limits })} testid="user" />
            {BINDINGS.some((b) => edit.bound[b]) && (
              <Stack gap={4}>
                <Text size="sm" fw={500}>{t('Linked accounts')}</Text>
                {BINDINGS.filter((b) => edit.bound[b]).map((b) => (
                  <Group key={b} justify="space-between" data-testid={`user-binding-${b}`}>
                    <Text size="sm">{outsideName(b, t)} · {edit.bound[b]}</Text>
                    <Button size="compact-xs" variant="default" onClick={() => unbind(b)}>{t('Unbind')}</Button>
                  </Group>
                ))}
              </Stack>
            )}
            {submit.error && <Alert color="red" data-testid="form-error">{submit.error}</Alert>}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setEdit(null)}>{t('Cancel')}</Button>
              <Button onClick={saveEdit} loading={submit.busy}>{t('Save')}</Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
