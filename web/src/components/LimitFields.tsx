import { Fieldset, Group, NumberInput, Select, SimpleGrid, Text } from '@mantine/core';
import { useI18n } from '../i18n';
import { MAX_LIMIT, QUOTA_PERIODS, periodName, type LimitErrors, type LimitForm, type QuotaPeriod, type RateField } from '../limits';
import QuotaInput from './QuotaInput';

interface Props {
  value: LimitForm;
  onChange: (v: LimitForm) => void;
  errors?: LimitErrors;
  /** testid prefixes the fields' data-testid, e.g. "token" gives token-rpm_limit. */
  testid: string;
}

/**
 * LimitFields edits the rate limits and the period quota of a token or a
 * user: four counts where 0 is no limit, and a quota that resets daily,
 * weekly or monthly beside the lifetime one.
 */
export default function LimitFields({ value, onChange, errors = {}, testid }: Props) {
  const { t } = useI18n();
  const field = (k: RateField, label: string, description: string) => (
    <NumberInput
      label={label}
      description={description}
      value={value[k]}
      min={0}
      max={MAX_LIMIT}
      allowDecimal={false}
      allowNegative={false}
      thousandSeparator=","
      error={errors[k]}
      onChange={(v) => onChange({ ...value, [k]: typeof v === 'number' ? Math.trunc(v) : Number(v) || 0 })}
      data-testid={`${testid}-${k}`}
    />
  );
  return (
    <Fieldset legend={t('Limits')} variant="unstyled">
      <Text size="xs" c="dimmed" mb="xs">{t('0 means no limit. Group limits and the owner’s limits apply as well.')}</Text>
      <SimpleGrid cols={2} spacing="sm">
        {field('rpm_limit', t('Requests per minute'), t('RPM; a refused call answers 429 with Retry-After.'))}
        {field('tpm_limit', t('Tokens per minute'), t('TPM: prompt plus completion tokens.'))}
        {field('rpd_limit', t('Requests per day'), t('RPD, counted per UTC day.'))}
        {field('max_parallel_requests', t('Parallel requests'), t('Calls in flight at once.'))}
      </SimpleGrid>
      <Group grow align="flex-end" mt="sm">
        <Select
          label={t('Period quota')}
          description={t('Starts again each day, week (from Monday) or month, beside the lifetime quota.')}
          data={QUOTA_PERIODS.map((p) => ({ value: p, label: periodName(p, t) }))}
          value={value.quota_period}
          allowDeselect={false}
          error={errors.quota_period}
          onChange={(v) => onChange({ ...value, quota_period: (v ?? '') as QuotaPeriod })}
          data-testid={`${testid}-quota_period`}
        />
        <QuotaInput
          label={t('Quota per period')}
          value={value.period_quota}
          disabled={!value.quota_period}
          error={errors.period_quota}
          onChange={(n) => onChange({ ...value, period_quota: n })}
          testid={`${testid}-period_quota`}
        />
      </Group>
    </Fieldset>
  );
}
