import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { Alert, Anchor, Center, Loader, Stack } from '@mantine/core';
import AuthCard from '../components/AuthCard';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { qs, request } from '../api';
import { notifyOk } from '../util';

/**
 * OAuthGitHub is where GitHub sends the browser back (/oauth/github, the
 * OAuth app's callback URL): it hands code and state to the server, which
 * signs in, or answers "bind" when it bound GitHub to the signed-in account.
 */
export default function OAuthGitHub() {
  const { refreshUser } = useApp();
  const { t } = useI18n();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [error, setError] = useState('');
  // A state works once: the call must not run twice (React's strict mode
  // runs effects twice in development).
  const sent = useRef(false);

  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    request('GET', `/api/oauth/github${qs({ code: params.get('code') ?? '', state: params.get('state') ?? '' })}`)
      .then(async (env) => {
        const bound = env.message === 'bind';
        await refreshUser();
        notifyOk(bound ? t('GitHub account bound') : t('Signed in with GitHub'));
        navigate(bound ? '/setting' : '/', { replace: true });
      })
      .catch((e) => setError((e as Error).message));
  }, [params, refreshUser, navigate, t]);

  return (
    <AuthCard title={t('Sign in with GitHub')}>
      {error ? (
        <Stack>
          <Alert color="red" data-testid="form-error">
            {error}
          </Alert>
          <Anchor component={Link} to="/login" size="sm">
            {t('Back to sign-in')}
          </Anchor>
        </Stack>
      ) : (
        <Center aria-label={t('Signing in with GitHub…')}>
          <Loader />
        </Center>
      )}
    </AuthCard>
  );
}
