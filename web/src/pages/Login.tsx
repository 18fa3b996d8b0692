import { useEffect, useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { TextInput, PasswordInput, Button, Stack, Alert, Group, Anchor, Box } from '@mantine/core';
import AuthCard from '../components/AuthCard';
import Turnstile from '../components/Turnstile';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api, qs } from '../api';
import { useSubmit } from '../useSubmit';
import { OUTSIDE_ORDER, outsideName, outsideEnabled, startOutside } from '../outside';
import WeChatModal from '../components/WeChatModal';

export default function Login() {
  const { status, user, refreshUser } = useApp();
  const { t } = useI18n();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [turnstile, setTurnstile] = useState('');
  const { error, setError, busy, run } = useSubmit();
  const [home, setHome] = useState('');
  const [wechat, setWeChat] = useState(false);
  const next = params.get('next') || '/';

  // HomePageContent, the site's welcome text set by root (HTML, as One API
  // takes it), is shown to visitors under the sign-in form.
  useEffect(() => {
    api<string>('GET', '/api/home_page_content')
      .then((h) => setHome(typeof h === 'string' ? h.trim() : ''))
      .catch(() => setHome(''));
  }, []);
  const safeNext = next.startsWith('/') && !next.startsWith('//') ? next : '/';

  if (user) return <Navigate to={safeNext} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await run(
      async () => {
        await api('POST', `/api/user/login${qs({ turnstile })}`, { username, password });
        await refreshUser();
        navigate(safeNext, { replace: true });
      },
      (!username || !password) && t('Enter your username and password.'),
      status.turnstile_check && !turnstile && t('Please complete the human check.'),
    );
  };

  return (
    <AuthCard
      title={t('Sign in')}
      below={home ? <Box mt="lg" w={640} maw="100%" className="footer-html" data-testid="home-page-content" dangerouslySetInnerHTML={{ __html: home }} /> : undefined}
    >
      <form onSubmit={submit}>
        <Stack>
          {status.password_login_enabled === false && (
            <Alert color="yellow">{t('Password sign-in is turned off by the administrator.')}</Alert>
          )}
          <TextInput
            label={t('Username')}
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.currentTarget.value)}
          />
          <PasswordInput
            label={t('Password')}
            name="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
          />
          {status.turnstile_check && status.turnstile_site_key && (
            <Turnstile siteKey={status.turnstile_site_key} onToken={setTurnstile} onError={setError} />
          )}
          {error && (
            <Alert color="red" data-testid="form-error">
              {error}
            </Alert>
          )}
          <Button type="submit" loading={busy}>
            {t('Sign in')}
          </Button>
          {status.wechat_login && (
            <Button variant="default" onClick={() => setWeChat(true)} data-testid="wechat-sign-in">
              {t('Sign in with {provider}', { provider: outsideName('wechat', t) })}
            </Button>
          )}
          {OUTSIDE_ORDER.filter((p) => outsideEnabled(status, p))
            .map((p) => (
              <Button key={p} variant="default" onClick={() => startOutside(status, p).catch((e) => setError((e as Error).message))} data-testid={`${p}-sign-in`}>
                {t('Sign in with {provider}', { provider: outsideName(p, t) })}
              </Button>
            ))}
          <Group justify="space-between">
            {status.register_enabled !== false ? (
              <Anchor component={Link} to="/register" size="sm">
                {t('Create an account')}
              </Anchor>
            ) : (
              <span />
            )}
            <Anchor component={Link} to="/reset" size="sm">
              {t('Forgot password?')}
            </Anchor>
          </Group>
        </Stack>
      </form>
      <WeChatModal
        opened={wechat}
        onClose={() => setWeChat(false)}
        bind={false}
        onDone={async () => {
          setWeChat(false);
          await refreshUser();
          navigate(safeNext, { replace: true });
        }}
      />
    </AuthCard>
  );
}
