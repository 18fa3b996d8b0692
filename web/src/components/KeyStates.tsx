import { Button, Table, Text } from '@mantine/core';
import { useI18n } from '../i18n';
import { fmtTime } from '../util';
import StatusBadge from './StatusBadge';
import type { KeyView } from '../channelKeys';

/**
 * KeyStates lists a multi-key channel's keys as the server shows them:
 * masked (never whole), enabled or disabled on its own, and why; with
 * onEnable, a disabled key can be brought back by hand.
 */
export default function KeyStates({ keys, onEnable }: { keys: KeyView[]; onEnable?: (index: number) => void }) {
  const { t } = useI18n();
  return (
    <Table verticalSpacing={4} fz="sm" data-testid="channel-keys">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>#</Table.Th>
          <Table.Th>{t('Key')}</Table.Th>
          <Table.Th>{t('Status')}</Table.Th>
          <Table.Th>{t('Why')}</Table.Th>
          {onEnable && <Table.Th />}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {keys.map((k) => (
          <Table.Tr key={k.index} data-testid="channel-key-row">
            <Table.Td>{k.index + 1}</Table.Td>
            <Table.Td className="mono nowrap">{k.key}</Table.Td>
            <Table.Td><StatusBadge kind="channel" status={k.status} /></Table.Td>
            <Table.Td>
              {k.status === 1 ? (
                <Text size="sm" c="dimmed">—</Text>
              ) : (
                <>
                  <Text size="sm" style={{ wordBreak: 'break-word' }}>{k.reason || t('The upstream refused the key.')}</Text>
                  {!!k.disabled_time && <Text size="xs" c="dimmed">{fmtTime(k.disabled_time)}</Text>}
                </>
              )}
            </Table.Td>
            {onEnable && (
              <Table.Td>
                {k.status !== 1 && (
                  <Button size="compact-xs" variant="default" onClick={() => onEnable(k.index)} data-testid="channel-key-enable">{t('Enable')}</Button>
                )}
              </Table.Td>
            )}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
