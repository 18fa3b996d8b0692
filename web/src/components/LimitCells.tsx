import { Text } from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { fmtTime } from '../util';
import { periodName, periodState, rateSummary, type Limited } from '../limits';

/**
 * PeriodQuotaCell shows a token's or user's period quota in a list: the
 * period, what is left of it (as quota figures are shown elsewhere) and
 * when it starts again, in local time. No period quota is a dash.
 */
export function PeriodQuotaCell({ of }: { of: Limited }) {
  const { t } = useI18n();
  const { fmtQuota } = useApp();
  const st = periodState(of);
  if (!st) return <Text size="sm" c="dimmed">—</Text>;
  return (
    <>
      <Text size="sm" c={st.left === 0 ? 'red' : undefined} data-testid="period-left">
        {t('{period}: {left} of {quota} left', { period: periodName(st.period, t), left: fmtQuota(st.left), quota: fmtQuota(st.quota) })}
      </Text>
      {st.resetAt > 0 && (
        <Text size="xs" c="dimmed" data-testid="period-reset">{t('Resets {time}', { time: fmtTime(st.resetAt) })}</Text>
      )}
    </>
  );
}

/**
 * LimitsCell is a list's one column for limits: the period quota (what is
 * left, when it resets) over the rate limits that are set; a dash when
 * neither is.
 */
export function LimitsCell({ of }: { of: Limited }) {
  const { t } = useI18n();
  const hasPeriod = !!periodState(of);
  const hasRates = rateSummary(of, t).length > 0;
  if (!hasPeriod && !hasRates) return <Text size="sm" c="dimmed">—</Text>;
  return (
    <>
      {hasPeriod && <PeriodQuotaCell of={of} />}
      {hasRates && <RateLimitsCell of={of} />}
    </>
  );
}

/** RateLimitsCell lists the rate limits that are set, or a dash when none is. */
export function RateLimitsCell({ of }: { of: Limited }) {
  const { t } = useI18n();
  const parts = rateSummary(of, t);
  if (!parts.length) return <Text size="sm" c="dimmed">—</Text>;
  return (
    <Text size="sm" data-testid="rate-limits">
      {parts.join(' · ')}
    </Text>
  );
}
