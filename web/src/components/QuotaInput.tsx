import { NumberInput } from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';

interface Props {
  label: string;
  value: number;
  onChange: (n: number) => void;
  disabled?: boolean;
  allowNegative?: boolean;
  error?: string;
  testid?: string;
}

/** QuotaInput edits a quota in raw units and shows what it is worth as the console displays it. */
export default function QuotaInput({ label, value, onChange, disabled, allowNegative, error, testid }: Props) {
  const { fmtQuota, status } = useApp();
  const { t } = useI18n();
  return (
    <NumberInput
      label={label}
      value={value}
      onChange={(v) => onChange(typeof v === 'number' ? Math.trunc(v) : Number(v) || 0)}
      disabled={disabled}
      allowDecimal={false}
      allowNegative={!!allowNegative}
      thousandSeparator=","
      error={error}
      data-testid={testid}
      description={status.display_in_currency ? t('Worth {v}', { v: fmtQuota(value) }) : undefined}
    />
  );
}
