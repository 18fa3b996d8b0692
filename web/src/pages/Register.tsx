import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { TextInput, PasswordInput, Button, Stack, Alert, Anchor, Group } from '@mantine/core';
import AuthCard from '../components/AuthCard';
import Turnstile from '../components/Turnstile';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api, qs } from '../api';
import { useSubmit } from '../useSubmit';
import { notifyOk } from '../util';

export default function Register() {
  const { status } = useApp();
  const { t } = useI18n();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [form, setForm] = useState({ username: '', password: '', password2: '', email: '', verification_code: '' });
  const [turnstile, setTurnstile] = useState('');
  const [info, setInfo] = useState('');
  const { error, setError, busy, run } = useSubmit();
  const code = useSubmit();
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [k]: e.currentTarget.value });

  const closed = status.register_enabled === false || status.password_register_enabled === false;

  const sendCode = async () => {
    setError('');
    setInfo('');
    await code.run(
      async () => {
        await api('GET', `/api/verification${qs({ email: form.email, turnstile })}`);
        setInfo(t('A verification code was sent to {email}.', { email: form.email }));
      },
      !form.email && t('Enter your email address first.'),
      status.turnstile_check && !turnstile && t('Please complete the human check.'),
    );
  };
  const sending = code.busy;
  const shownError = error || code.error;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    code.setError('');
    await run(
      async () => {
        const body: Record<string, string> = { username: form.username, password: form.password };
        if (status.email_verification) {
          body.email = form.email;
          body.verification_code = form.verification_code;
        }
        const aff = params.get('aff');
        if (aff) body.aff_code = aff;
        await api('POST', `/api/user/register${qs({ turnstile })}`, body);
        notifyOk(t('Account created. Sign in with it now.'));
        navigate('/login');
      },
      (!form.username || !form.password) && t('Enter a username and a password.'),
      form.password !== form.password2 && t('The two passwords differ.'),
      status.email_verification && (!form.email || !form.verification_code) && t('Enter your email and the code sent to it.'),
      status.turnstile_check && !turnstile && t('Please complete the human check.'),
    );
  };

  return (
    <AuthCard title={t('Create an account')}>
      <form onSubmit={submit}>
        <Stack>
          {closed && <Alert color="yellow">{t('Registration is closed by the administrator.')}</Alert>}
          <TextInput label={t('Username')} name="username" autoComplete="username" value={form.username} onChange={set('username')} />
          <PasswordInput label={t('Password')} name="password" autoComplete="new-password" value={form.password} onChange={set('password')} />
          <PasswordInput
            label={t('Confirm password')}
            name="password2"
            autoComplete="new-password"
            value={form.password2}
            onChange={set('password2')}
          />
          {status.email_verification && (
            <>
              <Group align="flex-end" gap="xs" wrap="nowrap">
                <TextInput style={{ flex: 1 }} label={t('Email')} type="email" value={form.email} onChange={set('email')} />
                <Button variant="default" onClick={sendCode} loading={sending}>
                  {t('Send code')}
                </Button>
              </Group>
              <TextInput label={t('Verification code')} value={form.verification_code} onChange={set('verification_code')} />
            </>
          )}
          {status.turnstile_check && status.turnstile_site_key && (
            <Turnstile siteKey={status.turnstile_site_key} onToken={setTurnstile} onError={setError} />
          )}
          {info && <Alert color="blue">{info}</Alert>}
          {shownError && (
            <Alert color="red" data-testid="form-error">
              {shownError}
            </Alert>
          )}
          <Button type="submit" loading={busy}>
            {t('Register')}
          </Button>
          <Anchor component={Link} to="/login" size="sm">
            {t('Already have an account? Sign in')}
          </Anchor>
        </Stack>
      </form>
    </AuthCard>
  );
}
