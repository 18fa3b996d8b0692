import { useEffect, useMemo, useRef, useState } from 'react';
import { Title, Group, Button, Stack, Text, Paper, Select, Textarea, Alert, Badge, ScrollArea } from '@mantine/core';
import { useApp } from '../state';
import { useI18n } from '../i18n';
import { api, listPage, qs } from '../api';
import { serverMessage } from '../messages';
import { modelNames, splitList } from '../models';
import { notifyError } from '../util';
import type { Token } from './Tokens';
import { isChatModel } from '../channelTypes';
import { ENABLED } from '../status';

interface Message {
  role: 'user' | 'assistant';
  content: string;
}

interface Cost {
  prompt: number;
  completion: number;
  quota?: number;
  requestId: string;
}

/**
 * readStream reads an OpenAI chat completion stream, calling onText for
 * each piece of the answer, and returns the usage chunk's figures.
 */
async function readStream(body: ReadableStream<Uint8Array>, onText: (s: string) => void): Promise<{ prompt: number; completion: number }> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const usage = { prompt: 0, completion: 0 };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') return usage;
      const chunk = JSON.parse(data) as {
        choices?: { delta?: { content?: string } }[];
        usage?: { prompt_tokens?: number; completion_tokens?: number };
        error?: { message?: string; code?: string };
      };
      if (chunk.error) throw new Error(serverMessage(chunk.error.code, chunk.error.message ?? 'stream error'));
      const piece = chunk.choices?.[0]?.delta?.content;
      if (piece) onText(piece);
      if (chunk.usage) {
        usage.prompt = chunk.usage.prompt_tokens ?? 0;
        usage.completion = chunk.usage.completion_tokens ?? 0;
      }
    }
  }
  return usage;
}

/**
 * Playground chats through the relay as one of the user's tokens: the
 * call goes to POST /pg/chat/completions, which the server runs exactly
 * as a /v1 chat completion of that token, so it is billed and logged.
 */
export default function Playground() {
  const { fmtQuota, refreshUser } = useApp();
  const { t } = useI18n();
  const [tokens, setTokens] = useState<Token[]>([]);
  const [tokenId, setTokenId] = useState<string | null>(null);
  const [groupModels, setGroupModels] = useState<string[]>([]);
  const [model, setModel] = useState<string | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [cost, setCost] = useState<Cost | null>(null);
  const abort = useRef<AbortController | null>(null);

  useEffect(() => {
    listPage<Token>(`/api/token/${qs({ p: 0, page_size: 100 })}`)
      .then((p) => {
        const usable = p.items.filter((tk) => tk.status === ENABLED);
        setTokens(usable);
        if (usable.length) setTokenId(String(usable[0].id));
      })
      .catch(notifyError);
    api<unknown>('GET', '/api/user/available_models').then((d) => setGroupModels(modelNames(d))).catch(notifyError);
    return () => abort.current?.abort();
  }, []);

  const token = tokens.find((tk) => String(tk.id) === tokenId);
  // A token with an allow-list reaches only those of the group's models;
  // the playground chats, so image, audio and embedding models are left out.
  const models = useMemo(() => {
    const allowed = splitList(token?.models);
    const reachable = allowed.length ? groupModels.filter((m) => allowed.includes(m)) : groupModels;
    return reachable.filter(isChatModel);
  }, [token, groupModels]);
  useEffect(() => {
    if (model && models.includes(model)) return;
    setModel(models[0] ?? null);
  }, [models, model]);

  const send = async () => {
    const text = input.trim();
    if (!text || !token || !model) return;
    setError('');
    setCost(null);
    const history: Message[] = [...messages, { role: 'user', content: text }];
    setMessages([...history, { role: 'assistant', content: '' }]);
    setInput('');
    setBusy(true);
    const ctl = new AbortController();
    abort.current = ctl;
    try {
      const res = await fetch('/pg/chat/completions', {
        method: 'POST',
        credentials: 'same-origin',
        signal: ctl.signal,
        headers: { 'Content-Type': 'application/json', 'X-Switchyard-Token': String(token.id) },
        body: JSON.stringify({ model, messages: history, stream: true, stream_options: { include_usage: true } }),
      });
      const requestId = res.headers.get('X-Request-Id') ?? '';
      if (!res.ok || !res.body) {
        const j = (await res.json().catch(() => null)) as { error?: { message?: string; code?: string } } | null;
        throw new Error(serverMessage(j?.error?.code, j?.error?.message ?? `HTTP ${res.status}`));
      }
      let answer = '';
      const usage = await readStream(res.body, (piece) => {
        answer += piece;
        setMessages([...history, { role: 'assistant', content: answer }]);
      });
      setCost({ ...usage, requestId });
      setBusy(false);
      // The charge is settled a moment after the stream ends; its consume
      // log (found by request id) says what it cost.
      for (let i = 0; i < 20 && requestId; i++) {
        const p = await listPage<{ quota?: number }>(`/api/log/self${qs({ keyword: requestId, type: 2, p: 0, page_size: 1 })}`);
        if (p.items.length) {
          setCost({ ...usage, requestId, quota: p.items[0].quota ?? 0 });
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      refreshUser().catch(() => undefined);
    } catch (e) {
      if ((e as Error).name !== 'AbortError') setError((e as Error).message);
      setMessages(history);
    } finally {
      setBusy(false);
      abort.current = null;
    }
  };

  return (
    <Stack maw={860}>
      <Title order={3}>{t('Playground')}</Title>
      <Text size="sm" c="dimmed">{t('Chat through the relay as one of your tokens. Each call is billed to the token and logged like any client’s.')}</Text>
      <Group grow align="flex-end">
        <Select
          label={t('Token')}
          data={tokens.map((tk) => ({ value: String(tk.id), label: tk.name }))}
          value={tokenId}
          onChange={setTokenId}
          allowDeselect={false}
          placeholder={t('Create a token first')}
          data-testid="pg-token"
        />
        <Select label={t('Model')} data={models} value={model} onChange={setModel} searchable allowDeselect={false} placeholder={t('No model is available')} data-testid="pg-model" />
      </Group>
      <Paper withBorder radius="md" p="md">
        <ScrollArea.Autosize mah={420}>
          <Stack gap="sm" data-testid="pg-messages">
            {!messages.length && <Text c="dimmed" size="sm">{t('Type a message below to start.')}</Text>}
            {messages.map((m, i) => (
              <Paper key={i} p="sm" radius="md" bg={m.role === 'user' ? 'blue.0' : 'gray.0'} data-testid={m.role === 'user' ? 'pg-user' : 'pg-answer'}>
                <Text size="xs" c="dimmed">{m.role === 'user' ? t('You') : model}</Text>
                <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>{m.content || (busy && i === messages.length - 1 ? '…' : '')}</Text>
              </Paper>
            ))}
          </Stack>
        </ScrollArea.Autosize>
      </Paper>
      {cost && (
        <Group gap="xs" data-testid="pg-cost">
          <Badge variant="light">{t('Prompt tokens: {n}', { n: cost.prompt })}</Badge>
          <Badge variant="light">{t('Completion tokens: {n}', { n: cost.completion })}</Badge>
          <Badge variant="light" color={cost.quota === undefined ? 'gray' : 'green'}>
            {cost.quota === undefined ? t('Cost: settling…') : t('Cost: {q}', { q: fmtQuota(cost.quota) })}
          </Badge>
        </Group>
      )}
      {error && <Alert color="red" data-testid="form-error">{error}</Alert>}
      <Textarea
        placeholder={t('Message')}
        autosize
        minRows={2}
        value={input}
        onChange={(e) => setInput(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) send();
        }}
        data-testid="pg-input"
      />
      <Group justify="space-between">
        <Button variant="default" disabled={busy || !messages.length} onClick={() => { setMessages([]); setCost(null); }}>{t('Clear')}</Button>
        <Group gap="xs">
          {busy && <Button variant="default" onClick={() => abort.current?.abort()}>{t('Stop')}</Button>}
          <Button onClick={send} loading={busy} disabled={!token || !model || !input.trim()} data-testid="pg-send">{t('Send')}</Button>
        </Group>
      </Group>
    </Stack>
  );
}
