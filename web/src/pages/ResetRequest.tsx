import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { TextInput, Button, Stack, Alert, Anchor } from '@mantine/core';
import AuthCard from '../components/AuthCard';
import Turnstile from '../components/Turnstile';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api, qs } from '../api';
import { useSubmit } from '../useSubmit';

export default function ResetRequest() {
  const { status } = useApp();
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [turnstile, setTurnstile] = useState('');
  const [sent, setSent] = useState(false);
  const { error, setError, busy, run } = useSubmit();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await run(
      async () => {
        await api('GET', `/api/reset_password${qs({ email, turnstile })}`);
        setSent(true);
      },
      !email && t('Enter your email address first.'),
      status.turnstile_check && !turnstile && t('Please complete the human check.'),
    );
  };

  return (
    <AuthCard title={t('Reset password')}>
      <form onSubmit={submit}>
        <Stack>
          <TextInput label={t('Email')} type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          {status.turnstile_check && status.turnstile_site_key && (
            <Turnstile siteKey={status.turnstile_site_key} onToken={setTurnstile} onError={setError} />
          )}
          {sent && <Alert color="green">{t('If that address has an account, a reset link is on its way.')}</Alert>}
          {error && <Alert color="red">{error}</Alert>}
          <Button type="submit" loading={busy}>
            {t('Send reset link')}
          </Button>
          <Anchor component={Link} to="/login" size="sm">
            {t('Back to sign in')}
          </Anchor>
        </Stack>
      </form>
    </AuthCard>
  );
}
