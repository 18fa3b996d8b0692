import { useState, type ReactNode } from 'react';
import { Popover, Button, Text, Group, type ButtonProps } from '@mantine/core';
import { useI18n } from '../i18n';

interface Props extends ButtonProps {
  /** question asked before onConfirm runs */
  question: string;
  onConfirm: () => Promise<void> | void;
  children: ReactNode;
}

/** ConfirmButton asks once more before a destructive action. */
export default function ConfirmButton({ question, onConfirm, children, ...rest }: Props) {
  const { t } = useI18n();
  const [opened, setOpened] = useState(false);
  const [busy, setBusy] = useState(false);
  return (
    <Popover opened={opened} onChange={setOpened} withArrow shadow="md" position="bottom-end">
      <Popover.Target>
        <Button {...rest} onClick={() => setOpened((o) => !o)}>
          {children}
        </Button>
      </Popover.Target>
      <Popover.Dropdown maw={280}>
        <Text size="sm" mb="xs">
          {question}
        </Text>
        <Group justify="flex-end" gap="xs">
          <Button size="xs" variant="default" onClick={() => setOpened(false)}>
            {t('Cancel')}
          </Button>
          <Button
            size="xs"
            color="red"
            loading={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await onConfirm();
              } finally {
                setBusy(false);
                setOpened(false);
              }
            }}
          >
            {t('Confirm')}
          </Button>
        </Group>
      </Popover.Dropdown>
    </Popover>
  );
}
