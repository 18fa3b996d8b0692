import { useEffect, useState } from 'react';
import { Title, Stack, Paper, Text, Alert } from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api } from '../api';
import { fmtTime } from '../util';

export default function About() {
  const { status } = useApp();
  const { t } = useI18n();
  const [about, setAbout] = useState<string | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<string>('GET', '/api/about')
      .then((a) => setAbout(typeof a === 'string' ? a : ''))
      .catch((e: Error) => setError(e.message));
  }, []);
  return (
    <Stack maw={800}>
      <Title order={3}>{t('About')}</Title>
      {error && <Alert color="red">{error}</Alert>}
      <Paper withBorder p="md" radius="md">
        {about ? (
          <div className="pre-wrap">{about}</div>
        ) : (
          <Text c="dimmed">{t('{name} is a self-hosted LLM relay compatible with One API.', { name: status.system_name || 'Switchyard' })}</Text>
        )}
      </Paper>
      <Text size="sm" c="dimmed">
        {t('Version')}: {status.version || '—'} · {t('Running since')}: {fmtTime(status.start_time)}
      </Text>
    </Stack>
  );
}
