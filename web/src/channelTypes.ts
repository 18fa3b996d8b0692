// Channel types come from the server (GET /api/channel/types): the types it
// relays to and what the channel form needs of each. The console keeps no
// table of its own, so a type the server adds shows up here by itself.
import { useEffect, useState } from 'react';
import { api } from './api';

export interface ChannelType {
  type: number;
  name: string;
  /** the provider's default endpoint, used when the channel sets none */
  base_url: string;
  /** the channel must set base_url: there is no default endpoint */
  base_url_required: boolean;
  /** the type's default models, chat models first */
  models: string[];
  /** label of the channel's `other` field when the type reads it, e.g. "api-version" */
  other: string;
  other_default: string;
  /** keys the type reads from the channel's config JSON */
  config: string[];
  /** what the key field wants, when it is not a plain API key */
  key_hint: string;
}

/** useChannelTypes loads the server's channel types once per mount; null until they arrive. */
export function useChannelTypes(onError: (e: unknown) => void): ChannelType[] | null {
  const [types, setTypes] = useState<ChannelType[] | null>(null);
  useEffect(() => {
    api<ChannelType[]>('GET', '/api/channel/types')
      .then((d) => setTypes(Array.isArray(d) ? d : []))
      .catch((e) => {
        setTypes([]);
        onError(e);
      });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return types;
}

/** typeName names a channel type, or by its number when the server no longer lists it. */
export function typeName(types: ChannelType[] | null, v: number): string {
  return types?.find((c) => c.type === v)?.name ?? `#${v}`;
}

/** findType is the server's description of type v, if it lists it. */
export function findType(types: ChannelType[] | null, v: number): ChannelType | undefined {
  return types?.find((c) => c.type === v);
}

// Name parts of models a chat completion cannot test, as on the server
// (model.IsChatModel): the channel test sends a chat call.
const NON_CHAT = ['embed', 'moderation', 'dall-e', 'gpt-image', 'image', 'tts', 'whisper', 'transcribe', 'audio', 'speech', 'rerank', 'realtime'];

/** isChatModel guesses from the name whether a model answers chat completions. */
export function isChatModel(name: string): boolean {
  const n = name.toLowerCase();
  return !NON_CHAT.some((m) => n.includes(m));
}

/** defaultTestModel is what the server tests when the channel sets no test model. */
export function defaultTestModel(models: string[]): string | undefined {
  return models.find(isChatModel);
}
