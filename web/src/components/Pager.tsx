import { Group, Button, Text, Select } from '@mantine/core';
import { useI18n } from '../i18n';

interface Props {
  page: number; // 0-based, as the API counts
  pageSize: number;
  count: number; // rows on this page
  total?: number;
  /** the server's word that another page follows, where it gives no total */
  hasMore?: boolean;
  onPage: (p: number) => void;
  onPageSize: (n: number) => void;
}

/**
 * Pager pages a server-side list. When the server gives neither a total nor
 * has_more, a short page is taken as the last one.
 */
export default function Pager({ page, pageSize, count, total, hasMore, onPage, onPageSize }: Props) {
  const { t } = useI18n();
  let last: number;
  if (total !== undefined) last = Math.max(0, Math.ceil(total / pageSize) - 1);
  else if (hasMore !== undefined) last = hasMore ? page + 1 : page;
  else last = count < pageSize ? page : page + 1;
  return (
    <Group justify="flex-end" mt="sm" gap="xs">
      {total !== undefined && (
        <Text size="sm" c="dimmed">
          {t('{n} in all', { n: total })}
        </Text>
      )}
      <Button size="xs" variant="default" disabled={page <= 0} onClick={() => onPage(page - 1)}>
        {t('Previous')}
      </Button>
      <Text size="sm">{t('Page {n}', { n: page + 1 })}</Text>
      <Button size="xs" variant="default" disabled={page >= last} onClick={() => onPage(page + 1)}>
        {t('Next')}
      </Button>
      <Select
        size="xs"
        w={90}
        aria-label={t('Rows per page')}
        value={String(pageSize)}
        onChange={(v) => v && onPageSize(Number(v))}
        data={['10', '20', '50', '100']}
        allowDeselect={false}
      />
    </Group>
  );
}
