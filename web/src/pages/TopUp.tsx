import { useState, type FormEvent } from 'react';
import { Title, Stack, Paper, TextInput, Button, Alert, Text, Group, Anchor } from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api } from '../api';
import { notifyOk } from '../util';

export default function TopUp() {
  const { user, status, fmtQuota, refreshUser } = useApp();
  const { t } = useI18n();
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    if (!key.trim()) return setError(t('Enter a redemption code.'));
    setBusy(true);
    try {
      const added = await api<unknown>('POST', '/api/user/topup', { key: key.trim() });
      notifyOk(typeof added === 'number' ? t('Added {q} to your quota', { q: fmtQuota(added) }) : t('Code redeemed'));
      setKey('');
      await refreshUser();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Stack maw={520}>
      <Title order={3}>{t('Top up')}</Title>
      <Paper withBorder p="md" radius="md">
        <Group justify="space-between">
          <Text c="dimmed">{t('Quota left')}</Text>
          <Text fw={700} size="lg">{fmtQuota(user?.quota)}</Text>
        </Group>
      </Paper>
      <Paper withBorder p="md" radius="md">
        <form onSubmit={submit}>
          <Stack>
            <TextInput label={t('Redemption code')} value={key} onChange={(e) => setKey(e.currentTarget.value)} classNames={{ input: 'mono' }} />
            {error && <Alert color="red" data-testid="form-error">{error}</Alert>}
            <Button type="submit" loading={busy}>{t('Redeem')}</Button>
            {status.top_up_link && (
              <Anchor href={status.top_up_link} target="_blank" rel="noreferrer" size="sm">
                {t('Buy a redemption code')}
              </Anchor>
            )}
          </Stack>
        </form>
      </Paper>
    </Stack>
  );
}
