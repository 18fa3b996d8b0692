import { useCallback, useEffect, useMemo, useState } from 'react';
import { Title, Tabs, Stack, Paper, TextInput, PasswordInput, Button, Group, Alert, Code, Text, Loader, Center } from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api, qs } from '../api';
import { copyText, notifyError, notifyOk } from '../util';
import { GROUPS, groupOf, SECRET_KEYS, type GroupName } from '../optionGroups';
import OptionField from '../components/OptionField';
import Turnstile from '../components/Turnstile';
import { useSubmit } from '../useSubmit';
import { BOUND_ID, OUTSIDE_ORDER, outsideName, outsideEnabled, startOutside, type Outside } from '../outside';
import WeChatModal from '../components/WeChatModal';

interface Option {
  key: string;
  value: string;
}

/**
 * EmailCard binds an email address to the signed-in account: a code is
 * mailed to it (GET /api/verification) and the account takes the address
 * once the code comes back (GET /api/oauth/email/bind). An account made
 * without an email needs one for password resets.
 */
function EmailCard() {
  const { user, status, refreshUser } = useApp();
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [turnstile, setTurnstile] = useState('');
  const [info, setInfo] = useState('');
  const send = useSubmit();
  const bind = useSubmit();

  const sendCode = () => {
    bind.setError('');
    return send.run(
      async () => {
        await api('GET', `/api/verification${qs({ email, turnstile })}`);
        setInfo(t('A verification code was sent to {email}.', { email }));
      },
      !email && t('Enter your email address first.'),
      status.turnstile_check && !turnstile && t('Please complete the human check.'),
    );
  };

  const submit = () => {
    send.setError('');
    return bind.run(
      async () => {
        await api('GET', `/api/oauth/email/bind${qs({ email, code })}`);
        notifyOk(t('Email address saved'));
        setEmail('');
        setCode('');
        setInfo('');
        await refreshUser();
      },
      (!email || !code) && t('Enter your email and the code sent to it.'),
    );
  };

  const error = send.error || bind.error;
  return (
    <Paper withBorder p="md" radius="md">
      <Stack>
        <Text fw={600}>{t('Email')}</Text>
        <Text size="sm" c="dimmed" data-testid="current-email">
          {user?.email ? t('Bound to {email}.', { email: user.email }) : t('No email address yet: bind one to reset a forgotten password.')}
        </Text>
        <Group align="flex-end" gap="xs" wrap="nowrap">
          <TextInput style={{ flex: 1 }} label={t('New email address')} type="email" name="bind_email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <Button variant="default" onClick={sendCode} loading={send.busy}>
            {t('Send code')}
          </Button>
        </Group>
        <TextInput label={t('Verification code')} name="bind_code" value={code} onChange={(e) => setCode(e.currentTarget.value)} />
        {status.turnstile_check && status.turnstile_site_key && (
          <Turnstile siteKey={status.turnstile_site_key} onToken={setTurnstile} onError={send.setError} />
        )}
        {info && <Alert color="blue">{info}</Alert>}
        {error && <Alert color="red" data-testid="email-error">{error}</Alert>}
        <Group justify="flex-end">
          <Button onClick={submit} loading={bind.busy} data-testid="email-bind">
            {t('Bind email')}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

/** OutsideCard binds an outside account (GitHub, OpenID Connect, Lark) to the signed-in one, to sign in with it. */
function OutsideCard({ provider }: { provider: Outside }) {
  const { user, status } = useApp();
  const { t } = useI18n();
  if (!outsideEnabled(status, provider)) return null;
  const name = outsideName(provider, t);
  const bound = user?.[BOUND_ID[provider]];
  return (
    <Paper withBorder p="md" radius="md">
      <Stack>
        <Text fw={600}>{name}</Text>
        <Text size="sm" c="dimmed" data-testid={`${provider}-binding`}>
          {bound ? t('Bound to {provider} account {id}.', { provider: name, id: bound }) : t('Not bound: bind it to sign in with {provider}.', { provider: name })}
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => startOutside(status, provider).catch(notifyError)}>
            {t('Bind {provider} account', { provider: name })}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

/** WeChatCard binds a WeChat account to the signed-in one with a code from the official account (WeChatModal). */
function WeChatCard() {
  const { user, status, refreshUser } = useApp();
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  if (!status.wechat_login) return null;
  const name = outsideName('wechat', t);
  return (
    <Paper withBorder p="md" radius="md">
      <Stack>
        <Text fw={600}>{name}</Text>
        <Text size="sm" c="dimmed" data-testid="wechat-binding">
          {user?.wechat_id ? t('Bound to {provider} account {id}.', { provider: name, id: user.wechat_id }) : t('Not bound: bind it to sign in with {provider}.', { provider: name })}
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setOpen(true)}>
            {t('Bind {provider} account', { provider: name })}
          </Button>
        </Group>
      </Stack>
      <WeChatModal
        opened={open}
        onClose={() => setOpen(false)}
        bind
        onDone={async () => {
          setOpen(false);
          notifyOk(t('{provider} account bound', { provider: name }));
          await refreshUser();
        }}
      />
    </Paper>
  );
}

function Account() {
  const { user, status, refreshUser } = useApp();
  const { t } = useI18n();
  const [displayName, setDisplayName] = useState(user?.display_name ?? '');
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [password2, setPassword2] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [accessToken, setAccessToken] = useState('');
  const [aff, setAff] = useState('');

  const save = async () => {
    setError('');
    if (password && !current) return setError(t('Enter your current password to set a new one.'));
    if (password && password !== password2) return setError(t('The two passwords differ.'));
    setBusy(true);
    try {
      const body: Record<string, string> = { username: user?.username ?? '', display_name: displayName };
      if (password) {
        body.password = password;
        body.original_password = current;
      }
      await api('PUT', '/api/user/self', body);
      notifyOk(password ? t('Password changed') : t('Saved'));
      setCurrent('');
      setPassword('');
      setPassword2('');
      await refreshUser();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const genToken = async () => {
    try {
      const tok = await api<string>('GET', '/api/user/token');
      setAccessToken(String(tok));
    } catch (e) {
      notifyError(e);
    }
  };

  const loadAff = async () => {
    try {
      const code = await api<string>('GET', '/api/user/aff');
      const origin = status.server_address || window.location.origin;
      setAff(`${origin.replace(/\/$/, '')}/register?aff=${encodeURIComponent(String(code))}`);
    } catch (e) {
      notifyError(e);
    }
  };

  const copy = (s: string) => copyText(s).then((ok) => (ok ? notifyOk(t('Copied')) : notifyError(t('Copy failed'))));

  return (
    <Stack maw={560}>
      <Paper withBorder p="md" radius="md">
        <Stack>
          <Text fw={600}>{t('Profile')}</Text>
          <TextInput label={t('Username')} value={user?.username ?? ''} disabled />
          <TextInput label={t('Display name')} value={displayName} onChange={(e) => setDisplayName(e.currentTarget.value)} />
          <PasswordInput label={t('Current password')} name="original_password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.currentTarget.value)} />
          <PasswordInput label={t('New password')} name="new_password" autoComplete="new-password" description={t('Leave empty to keep the current password.')} value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
          <PasswordInput label={t('Confirm password')} name="new_password2" autoComplete="new-password" value={password2} onChange={(e) => setPassword2(e.currentTarget.value)} />
          {error && <Alert color="red" data-testid="form-error">{error}</Alert>}
          <Group justify="flex-end">
            <Button onClick={save} loading={busy} data-testid="profile-save">{t('Save')}</Button>
          </Group>
        </Stack>
      </Paper>
      <EmailCard />
      {OUTSIDE_ORDER.map((p) => (
        <OutsideCard key={p} provider={p} />
      ))}
      <WeChatCard />
      <Paper withBorder p="md" radius="md">
        <Stack>
          <Text fw={600}>{t('Access token')}</Text>
          <Text size="sm" c="dimmed">{t('An access token signs scripts in to the management API. Generating one replaces the previous one.')}</Text>
          {accessToken && (
            <>
              <Alert color="yellow">{t('Copy this token now. It will not be shown again.')}</Alert>
              <Group wrap="nowrap">
                <Code block style={{ flex: 1, wordBreak: 'break-all' }}>{accessToken}</Code>
                <Button size="xs" variant="default" onClick={() => copy(accessToken)}>{t('Copy')}</Button>
              </Group>
            </>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={genToken}>{t('Generate access token')}</Button>
          </Group>
        </Stack>
      </Paper>
      <Paper withBorder p="md" radius="md">
        <Stack>
          <Text fw={600}>{t('Invite link')}</Text>
          {aff ? (
            <Group wrap="nowrap">
              <Code block style={{ flex: 1, wordBreak: 'break-all' }}>{aff}</Code>
              <Button size="xs" variant="default" onClick={() => copy(aff)}>{t('Copy')}</Button>
            </Group>
          ) : (
            <Group justify="flex-end">
              <Button variant="default" onClick={loadAff}>{t('Show my invite link')}</Button>
            </Group>
          )}
        </Stack>
      </Paper>
    </Stack>
  );
}

function SystemOptions() {
  const { refreshStatus } = useApp();
  const { t } = useI18n();
  const [options, setOptions] = useState<Option[] | null>(null);
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    try {
      const d = await api<Option[]>('GET', '/api/option/');
      setOptions(Array.isArray(d) ? d.map((o) => ({ key: o.key, value: String(o.value ?? '') })) : []);
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);

  useEffect(() => {
    load();
  }, [load]);

  const save = useCallback(
    async (key: string, value: string) => {
      try {
        await api('PUT', '/api/option/', { key, value });
        notifyOk(t('{key} saved', { key }));
        setOptions((os) => os && os.map((o) => (o.key === key ? { ...o, value } : o)));
        refreshStatus();
        return true;
      } catch (e) {
        notifyError(e);
        return false;
      }
    },
    [refreshStatus, t],
  );

  const grouped = useMemo(() => {
    const g = new Map<GroupName, { key: string; value: string; secret?: boolean }[]>();
    for (const name of GROUPS) g.set(name, []);
    const keys = new Set<string>();
    for (const o of options ?? []) {
      keys.add(o.key);
      g.get(groupOf(o.key))!.push(o);
    }
    if (options) for (const k of SECRET_KEYS) if (!keys.has(k)) g.get(groupOf(k))!.push({ key: k, value: '', secret: true });
    for (const list of g.values()) list.sort((a, b) => a.key.localeCompare(b.key));
    return g;
  }, [options]);

  if (error) return <Alert color="red">{error}</Alert>;
  if (!options)
    return (
      <Center h={200}>
        <Loader />
      </Center>
    );
  const groups = GROUPS.filter((g) => grouped.get(g)!.length);
  return (
    <Tabs defaultValue={groups[0]} variant="pills" orientation="horizontal">
      <Tabs.List mb="md">
        {groups.map((g) => (
          <Tabs.Tab key={g} value={g}>
            {t(g)}
          </Tabs.Tab>
        ))}
      </Tabs.List>
      {groups.map((g) => (
        <Tabs.Panel key={g} value={g}>
          <Paper withBorder p="md" radius="md" maw={900}>
            <Stack gap="lg">
              {grouped.get(g)!.map((o) => (
                <OptionField key={o.key} name={o.key} value={o.value} secret={o.secret} onSave={save} />
              ))}
            </Stack>
          </Paper>
        </Tabs.Panel>
      ))}
    </Tabs>
  );
}

export default function Settings() {
  const { isRoot } = useApp();
  const { t } = useI18n();
  return (
    <Stack>
      <Title order={3}>{t('Settings')}</Title>
      {isRoot ? (
        <Tabs defaultValue="system">
          <Tabs.List mb="md">
            <Tabs.Tab value="system">{t('System')}</Tabs.Tab>
            <Tabs.Tab value="account">{t('My account')}</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="system">
            <SystemOptions />
          </Tabs.Panel>
          <Tabs.Panel value="account">
            <Account />
          </Tabs.Panel>
        </Tabs>
      ) : (
        <Account />
      )}
    </Stack>
  );
}
