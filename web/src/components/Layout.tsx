import { Suspense } from 'react';
import { NavLink as RouterLink, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { AppShell, Burger, Group, NavLink, Text, Button, Image, Center, Loader, Box } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api } from '../api';
import { notifyError } from '../util';
import LangSwitch from './LangSwitch';
import ErrorBoundary from './ErrorBoundary';

interface Item {
  to: string;
  label: string;
  admin?: boolean;
}

const ITEMS: Item[] = [
  { to: '/', label: 'Dashboard' },
  { to: '/token', label: 'Tokens' },
  { to: '/pg', label: 'Playground' },
  { to: '/channel', label: 'Channels', admin: true },
  { to: '/user', label: 'Users', admin: true },
  { to: '/redemption', label: 'Redemption codes', admin: true },
  { to: '/topup', label: 'Top up' },
  { to: '/log', label: 'Logs' },
  { to: '/setting', label: 'Settings' },
  { to: '/about', label: 'About' },
];

export default function Layout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { status, user, isAdmin, setUser } = useApp();
  const { t } = useI18n();
  const navigate = useNavigate();
  const location = useLocation();

  const logout = async () => {
    try {
      await api('GET', '/api/user/logout');
      setUser(null);
      navigate('/login');
    } catch (e) {
      notifyError(e);
    }
  };

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('Menu')} />
            <Image src={status.logo || '/favicon.svg'} h={28} w={28} fit="contain" alt="" />
            <Text fw={700} size="lg">
              {status.system_name || 'Switchyard'}
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <LangSwitch />
            <Text size="sm" c="dimmed" visibleFrom="xs" data-testid="current-user">
              {user?.display_name || user?.username}
            </Text>
            <Button variant="default" size="xs" onClick={logout}>
              {t('Sign out')}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        {ITEMS.filter((i) => !i.admin || isAdmin).map((i) => (
          <NavLink
            key={i.to}
            component={RouterLink}
            to={i.to}
            end={i.to === '/'}
            label={t(i.label)}
            onClick={close}
          />
        ))}
        {/* ChatLink: the chat front end root points users to (One API's option). */}
        {status.chat_link && (
          <NavLink component="a" href={status.chat_link} target="_blank" rel="noopener noreferrer" label={t('Chat')} data-testid="chat-link" />
        )}
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense
          fallback={
            <Center h="50vh">
              <Loader />
            </Center>
          }
        >
          {/* keyed by path so that leaving a broken page clears the error */}
          <ErrorBoundary key={location.pathname} title={t('This page failed')} reload={t('Reload')}>
            <Outlet />
          </ErrorBoundary>
        </Suspense>
        {status.footer_html ? (
          <Box
            mt="xl"
            pt="md"
            c="dimmed"
            fz="sm"
            ta="center"
            className="footer-html"
            dangerouslySetInnerHTML={{ __html: status.footer_html }}
          />
        ) : (
          <Text mt="xl" pt="md" c="dimmed" fz="xs" ta="center">
            {status.system_name || 'Switchyard'} {status.version}
          </Text>
        )}
      </AppShell.Main>
    </AppShell>
  );
}
