import { useState, type FormEvent } from 'react';
import { Alert, Button, Center, Image, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { request } from '../api';
import { useSubmit } from '../useSubmit';
import { MAX_WECHAT_CODE, outsideName, wechatPath } from '../outside';

/**
 * WeChatModal signs in with WeChat, or binds it to the signed-in account
 * (bind), as One API does: the person scans the official account's QR
 * code, sends it a message, and types the verification code it answers.
 * onDone runs once the server signed in or bound.
 */
export default function WeChatModal({ opened, onClose, bind, onDone }: { opened: boolean; onClose: () => void; bind: boolean; onDone: () => void | Promise<void> }) {
  const { status } = useApp();
  const { t } = useI18n();
  const [code, setCode] = useState('');
  const { error, busy, run } = useSubmit();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    return run(
      async () => {
        await request('GET', wechatPath(code, bind));
        setCode('');
        await onDone();
      },
      !code.trim() && t('Enter the verification code the official account sent you.'),
    );
  };

  return (
    <Modal opened={opened} onClose={onClose} title={bind ? t('Bind {provider} account', { provider: outsideName('wechat', t) }) : t('Sign in with {provider}', { provider: outsideName('wechat', t) })}>
      <form onSubmit={submit}>
        <Stack>
          {status.wechat_qrcode && (
            <Center>
              <Image src={status.wechat_qrcode} w={200} h={200} fit="contain" alt={t('QR code of the WeChat official account')} data-testid="wechat-qrcode" />
            </Center>
          )}
          <Text size="sm" c="dimmed">
            {t('Scan the QR code with WeChat to follow the official account, send it a message saying “验证码”, and enter the code it answers (valid for a few minutes).')}
          </Text>
          <TextInput
            label={t('Verification code')}
            name="wechat_code"
            autoComplete="one-time-code"
            maxLength={MAX_WECHAT_CODE}
            value={code}
            onChange={(e) => setCode(e.currentTarget.value)}
            data-autofocus
          />
          {error && (
            <Alert color="red" data-testid="wechat-error">
              {error}
            </Alert>
          )}
          <Button type="submit" loading={busy} data-testid="wechat-submit">
            {bind ? t('Bind') : t('Sign in')}
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}
