import { Link } from 'react-router-dom';
import { Stack, Title, Text, Button } from '@mantine/core';
import { useI18n } from '../i18n';

export default function NotFound() {
  const { t } = useI18n();
  return (
    <Stack align="center" mt="xl">
      <Title order={2}>404</Title>
      <Text c="dimmed">{t('There is no page here.')}</Text>
      <Button component={Link} to="/">{t('Back to the dashboard')}</Button>
    </Stack>
  );
}
