import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { SimpleGrid, Paper, Text, Title, Alert, Group, Button, Loader, Center, Stack, Select, SegmentedControl } from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api, qs } from '../api';
import { fillDays, normalizeDashboard, type DayPoint, type ModelPoint } from '../dashboard';
import { periodState, rateSummary } from '../limits';
import { PeriodQuotaCell, RateLimitsCell } from '../components/LimitCells';

// recharts is the heaviest dependency; it loads after the figures are drawn.
const Charts = lazy(() => import('../components/Charts'));

function Stat({ label, value, sub, testid }: { label: string; value: string; sub?: string; testid?: string }) {
  return (
    <Paper withBorder p="md" radius="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fw={700} size="xl" data-testid={testid}>
        {value}
      </Text>
      {sub && (
        <Text size="xs" c="dimmed" data-testid={testid && `${testid}-units`}>
          {sub}
        </Text>
      )}
    </Paper>
  );
}

export default function Dashboard() {
  const { user, status, isAdmin, refreshUser, fmtQuota } = useApp();
  const [days, setDays] = useState('7');
  const [scope, setScope] = useState<'self' | 'all'>('self');
  // In currency, small charges vanish in the rounding; the raw units show them.
  const units = (q: number | undefined) =>
    status.display_in_currency ? t('{n} units', { n: (q ?? 0).toLocaleString('en-US') }) : undefined;
  const { t } = useI18n();
  const [notice, setNotice] = useState('');
  const [series, setSeries] = useState<{ days: DayPoint[]; models: ModelPoint[] } | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    setBusy(true);
    setError('');
    const results = await Promise.allSettled([
      refreshUser(),
      api<unknown>('GET', `/api/user/dashboard${qs({ days, scope: scope === 'all' ? 'all' : undefined })}`).then((d) =>
        setSeries(((n) => ({ ...n, days: fillDays(n.days, Number(days)) }))(normalizeDashboard(d))),
      ),
      api<string>('GET', '/api/notice').then((n) => setNotice(typeof n === 'string' ? n : '')),
    ]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) setError(failed.map((f) => (f.reason as Error).message).join('; '));
    setBusy(false);
  }, [refreshUser, days, scope]);

  useEffect(() => {
    load();
  }, [load]);

  const totalRequests = series?.days.reduce((s, d) => s + d.requests, 0) ?? 0;
  const totalTokens = series?.days.reduce((s, d) => s + d.tokens, 0) ?? 0;
  const totalQuota = series?.days.reduce((s, d) => s + d.quota, 0) ?? 0;
  const hasUsage = !!series && (totalRequests > 0 || series.models.length > 0);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>{t('Dashboard')}</Title>
        <Group gap="xs">
          {isAdmin && (
            <SegmentedControl
              size="xs"
              value={scope}
              onChange={(v) => setScope(v as 'self' | 'all')}
              data={[
                { value: 'self', label: t('Mine') },
                { value: 'all', label: t('All users') },
              ]}
            />
          )}
          <Select
            size="xs"
            w={130}
            aria-label={t('Period')}
            allowDeselect={false}
            value={days}
            onChange={(v) => v && setDays(v)}
            data={['7', '14', '30', '90'].map((d) => ({ value: d, label: t('Last {n} days', { n: d }) }))}
          />
          <Button variant="default" size="xs" onClick={load} loading={busy}>
            {t('Refresh')}
          </Button>
        </Group>
      </Group>
      {notice && (
        <Alert color="blue" title={t('Notice')}>
          <div className="pre-wrap">{notice}</div>
        </Alert>
      )}
      {error && <Alert color="red">{error}</Alert>}
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
        <Stat label={scope === 'all' ? t('Your quota left') : t('Quota left')} value={fmtQuota(user?.quota)} sub={units(user?.quota)} testid="quota-left" />
        {scope === 'all' ? (
          <Stat label={t('Quota used, all users (period)')} value={fmtQuota(totalQuota)} sub={units(totalQuota)} testid="quota-used" />
        ) : (
          <Stat label={t('Quota used')} value={fmtQuota(user?.used_quota)} sub={units(user?.used_quota)} testid="quota-used" />
        )}
        <Stat
          label={scope === 'all' ? t('Requests, all users') : t('Requests (period)')}
          value={totalRequests.toLocaleString('en-US')}
        />
        <Stat
          label={scope === 'all' ? t('Tokens, all users') : t('Tokens (period)')}
          value={totalTokens.toLocaleString('en-US')}
        />
      </SimpleGrid>
      {user && (periodState(user) || rateSummary(user, t).length > 0) && (
        // The account's own period quota and rate limits, which cap every token of it.
        <Paper withBorder p="md" radius="md" data-testid="my-limits">
          <Group gap="xl" align="flex-start">
            <Text size="xs" c="dimmed" tt="uppercase" fw={700}>{t('Your limits')}</Text>
            {periodState(user) && <div><PeriodQuotaCell of={user} /></div>}
            {rateSummary(user, t).length > 0 && <RateLimitsCell of={user} />}
          </Group>
        </Paper>
      )}
      {series === null ? (
        <Center h={200}>{busy ? <Loader /> : null}</Center>
      ) : !hasUsage ? (
        <Paper withBorder p="xl" radius="md">
          <Text c="dimmed" ta="center">
            {t('No usage yet. Create a token and send a request to see charts here.')}
          </Text>
        </Paper>
      ) : (
        <Suspense
          fallback={
            <Center h={300}>
              <Loader />
            </Center>
          }
        >
          <Charts days={series.days} models={series.models} fmtQuota={fmtQuota} />
        </Suspense>
      )}
    </Stack>
  );
}
