import type { ReactNode } from 'react';
import { Paper, Title, Group, Image, Stack, Alert } from '@mantine/core';
import { useApp } from '../state';
import LangSwitch from './LangSwitch';

/** AuthCard frames the pages a visitor sees before signing in. */
export default function AuthCard({ title, children, below }: { title: string; children: ReactNode; below?: ReactNode }) {
  const { status, statusError } = useApp();
  return (
    <div className="auth-page">
      <Paper withBorder shadow="sm" p="xl" radius="md" w={400} maw="100%">
        <Stack>
          <Group justify="space-between">
            <Group gap="xs">
              <Image src={status.logo || '/favicon.svg'} h={32} w={32} fit="contain" alt="" />
              <Title order={3}>{status.system_name || 'Switchyard'}</Title>
            </Group>
            <LangSwitch />
          </Group>
          <Title order={4}>{title}</Title>
          {statusError && <Alert color="red">{statusError}</Alert>}
          {children}
        </Stack>
      </Paper>
      {below}
    </div>
  );
}
