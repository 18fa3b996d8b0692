// One API's channel type numbers. `supported` marks the types this
// Switchyard relays to (model.ChannelTypes on the server); the others are
// listed greyed out so that people coming from One API see why theirs is
// missing, and are refused by the server if sent anyway.

export interface ChannelType {
  value: number;
  label: string;
  supported: boolean;
  /** the provider's default endpoint, shown as the base URL placeholder */
  baseUrlHint?: string;
  /** base_url must be set: there is no default endpoint */
  baseUrlRequired?: boolean;
  /** the type keeps its API version in the channel's `other` field; this is the usual value */
  apiVersion?: string;
  /** name prefixes of the models this provider serves, to pick its defaults from the known models */
  modelPrefixes?: string[];
}

export const CHANNEL_TYPES: ChannelType[] = [
  {
    value: 1,
    label: 'OpenAI',
    supported: true,
    baseUrlHint: 'https://api.openai.com',
    modelPrefixes: ['gpt-', 'chatgpt-', 'o1', 'o3', 'o4', 'text-embedding-', 'text-moderation', 'omni-moderation', 'dall-e', 'tts-', 'whisper-'],
  },
  { value: 8, label: 'Custom (OpenAI-compatible)', supported: true, baseUrlHint: 'https://example.com', baseUrlRequired: true },
  { value: 36, label: 'DeepSeek', supported: true, baseUrlHint: 'https://api.deepseek.com', modelPrefixes: ['deepseek-'] },
  { value: 28, label: 'Mistral', supported: true, baseUrlHint: 'https://api.mistral.ai', modelPrefixes: ['mistral-', 'open-mistral', 'open-mixtral', 'codestral', 'pixtral', 'ministral'] },
  { value: 29, label: 'Groq', supported: true, baseUrlHint: 'https://api.groq.com/openai', modelPrefixes: ['llama', 'mixtral-', 'gemma'] },
  { value: 25, label: 'Moonshot', supported: true, baseUrlHint: 'https://api.moonshot.cn', modelPrefixes: ['moonshot-', 'kimi-'] },
  { value: 45, label: 'xAI', supported: true, baseUrlHint: 'https://api.x.ai', modelPrefixes: ['grok-'] },
  { value: 20, label: 'OpenRouter', supported: true, baseUrlHint: 'https://openrouter.ai/api' },
  { value: 39, label: 'together.ai', supported: true, baseUrlHint: 'https://api.together.xyz' },
  { value: 44, label: 'SiliconFlow', supported: true, baseUrlHint: 'https://api.siliconflow.cn' },
  { value: 30, label: 'Ollama', supported: true, baseUrlHint: 'http://localhost:11434' },
  { value: 3, label: 'Azure OpenAI', supported: false, baseUrlHint: 'https://YOUR-RESOURCE.openai.azure.com', baseUrlRequired: true, apiVersion: '2024-10-21' },
  { value: 14, label: 'Anthropic Claude', supported: false, baseUrlHint: 'https://api.anthropic.com', modelPrefixes: ['claude-'] },
  { value: 24, label: 'Google Gemini', supported: false, baseUrlHint: 'https://generativelanguage.googleapis.com', apiVersion: 'v1beta', modelPrefixes: ['gemini-'] },
  { value: 17, label: 'Alibaba Qwen', supported: false },
  { value: 16, label: 'Zhipu', supported: false },
  { value: 15, label: 'Baidu Wenxin', supported: false },
  { value: 23, label: 'Tencent Hunyuan', supported: false },
  { value: 40, label: 'Doubao', supported: false },
];

export function channelType(v: number): ChannelType {
  return CHANNEL_TYPES.find((c) => c.value === v) ?? { value: v, label: `#${v}`, supported: false };
}

/** defaultModels picks from the known models those the type's provider serves. */
export function defaultModels(ct: ChannelType, known: string[]): string[] {
  const prefixes = ct.modelPrefixes;
  if (!prefixes) return [];
  return known.filter((m) => prefixes.some((p) => m.startsWith(p)));
}
