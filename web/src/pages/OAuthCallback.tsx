import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { Alert, Anchor, Center, Loader, Stack } from '@mantine/core';
import AuthCard from '../components/AuthCard';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { qs, request } from '../api';
import { notifyOk } from '../util';
import { outsideName, type Outside } from '../outside';

/**
 * OAuthCallback is where an outside provider sends the browser back
 * (/oauth/github, /oauth/oidc, /oauth/lark: the callback URL registered
 * with it): it
 * hands code and state to the server, which signs in, or answers "bind"
 * when it bound the outside account to the signed-in one.
 */
export default function OAuthCallback({ provider }: { provider: Outside }) {
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
    request('GET', `/api/oauth/${provider}${qs({ code: params.get('code') ?? '', state: params.get('state') ?? '' })}`)
      .then(async (env) => {
        const bound = env.message === 'bind';
        await refreshUser();
        notifyOk(bound ? t('{provider} account bound', { provider: outsideName(provider, t) }) : t('Signed in with {provider}', { provider: outsideName(provider, t) }));
        navigate(bound ? '/setting' : '/', { replace: true });
      })
      .catch((e) => setError((e as Error).message));
  }, [params, refreshUser, navigate, t, provider]);

  return (
    <AuthCard title={t('Sign in with {provider}', { provider: outsideName(provider, t) })}>
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
        <Center aria-label={t('Signing in with {provider}…', { provider: outsideName(provider, t) })}>
          <Loader />
        </Center>
      )}
    </AuthCard>
  );
}
