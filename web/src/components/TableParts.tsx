// What the list pages (channels, tokens, users, redemption codes, logs)
// draw the same way: the title bar with its search box, the row shown when
// a page is empty, and a row's action buttons.
import type { ReactNode } from 'react';
import { Button, Group, Table, Text, TextInput, Title } from '@mantine/core';
import { useI18n } from '../i18n';
import { DISABLED, ENABLED } from '../status';
import ConfirmButton from './ConfirmButton';

interface ListHeaderProps {
  title: string;
  /** what the search box searches, in words */
  placeholder: string;
  keyword: string;
  setKeyword: (keyword: string) => void;
  /** runs on the Search button and on Enter in the box */
  onSearch: () => void;
  /** the page's own buttons, drawn after Search */
  children?: ReactNode;
}

/** ListHeader is a list page's title bar: the title, the search box and its button, then the page's buttons. */
export function ListHeader({ title, placeholder, keyword, setKeyword, onSearch, children }: ListHeaderProps) {
  const { t } = useI18n();
  return (
    <Group justify="space-between">
      <Title order={3}>{title}</Title>
      <Group gap="xs">
        <TextInput
          size="xs"
          placeholder={placeholder}
          value={keyword}
          onChange={(e) => setKeyword(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') onSearch();
          }}
        />
        <Button size="xs" variant="default" onClick={onSearch}>{t('Search')}</Button>
        {children}
      </Group>
    </Group>
  );
}

/** EmptyRow fills an empty table: "Loading…" while the page loads, else text. */
export function EmptyRow({ cols, loading, text }: { cols: number; loading: boolean; text: string }) {
  const { t } = useI18n();
  return (
    <Table.Tr>
      <Table.Td colSpan={cols}>
        <Text c="dimmed" ta="center" py="md">{loading ? t('Loading…') : text}</Text>
      </Table.Td>
    </Table.Tr>
  );
}

interface RowActionsProps {
  /** status of the row; Enable or Disable is offered when it is ENABLED or DISABLED */
  status?: number;
  onStatus?: (next: number) => void;
  onEdit?: () => void;
  /** the question the delete button asks before onDelete */
  deleteQuestion?: string;
  onDelete?: () => void;
  /** buttons of the row's own, drawn first */
  children?: ReactNode;
}

/** RowActions is a row's buttons: its own first, then Enable/Disable, Edit and Delete. */
export function RowActions({ status, onStatus, onEdit, deleteQuestion, onDelete, children }: RowActionsProps) {
  const { t } = useI18n();
  return (
    <Group gap={4} wrap="nowrap">
      {children}
      {onStatus && status === ENABLED && <Button size="compact-xs" variant="default" onClick={() => onStatus(DISABLED)}>{t('Disable')}</Button>}
      {onStatus && status === DISABLED && <Button size="compact-xs" variant="default" onClick={() => onStatus(ENABLED)}>{t('Enable')}</Button>}
      {onEdit && <Button size="compact-xs" variant="default" onClick={onEdit}>{t('Edit')}</Button>}
      {onDelete && (
        <ConfirmButton size="compact-xs" color="red" variant="light" question={deleteQuestion ?? t('Delete?')} onConfirm={onDelete}>
          {t('Delete')}
        </ConfirmButton>
      )}
    </Group>
  );
}
