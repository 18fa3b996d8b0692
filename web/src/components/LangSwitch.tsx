import { SegmentedControl } from '@mantine/core';
import { useI18n, type Lang } from '../i18n';

/** LangSwitch flips the console between English and Chinese; the choice is remembered per browser. */
export default function LangSwitch() {
  const { lang, setLang } = useI18n();
  return (
    <SegmentedControl
      size="xs"
      value={lang}
      onChange={(v) => setLang(v as Lang)}
      data-testid="lang-switch"
      data={[
        { value: 'en', label: 'EN' },
        { value: 'zh', label: '中文' },
      ]}
    />
  );
}
