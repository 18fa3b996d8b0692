import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { Button, Stack, Alert, Anchor, Text, Code, Group } from '@mantine/core';
import AuthCard from '../components/AuthCard';
import { useI18n } from '../i18n';
import { api } from '../api';
import { useSubmit } from '../useSubmit';
import { copyText, notifyOk } from '../util';

/** ResetConfirm is where the emailed link lands: it exchanges the link's token for a new password. */
export default function ResetConfirm() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const email = params.get('email') || '';
  const token = params.get('token') || '';
  const [password, setPassword] = useState<string | null>(null);
  const { error, busy, run } = useSubmit();

  const submit = () =>
    run(async () => {
      const data = await api<unknown>('POST', '/api/user/reset', { email, token });
      setPassword(typeof data === 'string' ? data : '');
    });

  return (
    <AuthCard title={t('Reset password')}>
      <Stack>
        {!email || !token ? (
          <Alert color="red">{t('This reset link is incomplete. Request a new one.')}</Alert>
        ) : (
          <Text size="sm">{t('Reset the password of {email}.', { email })}</Text>
        )}
        {password !== null &&
          (password ? (
            <Alert color="green">
              <Stack gap="xs">
                <Text size="sm">{t('Your new password (change it after signing in):')}</Text>
                <Group>
                  <Code data-testid="new-password">{password}</Code>
                  <Button size="xs" variant="default" onClick={() => copyText(password).then(() => notifyOk(t('Copied')))}>
                    {t('Copy')}
                  </Button>
                </Group>
              </Stack>
            </Alert>
          ) : (
            <Alert color="green">{t('Password reset. Check your email for the new password.')}</Alert>
          ))}
        {error && <Alert color="red">{error}</Alert>}
        <Button onClick={submit} loading={busy} disabled={!email || !token || password !== null}>
          {t('Reset password')}
        </Button>
        <Anchor component={Link} to="/login" size="sm">
          {t('Back to sign in')}
        </Anchor>
      </Stack>
    </AuthCard>
  );
}
