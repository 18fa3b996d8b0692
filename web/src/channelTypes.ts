// One API's channel type numbers. The console offers those whose wire
// format Switchyard speaks or forwards; anything else still shows by number.

export interface ChannelType {
  value: number;
  label: string;
  /** what base_url means for this type, shown as the field's placeholder */
  baseUrlHint?: string;
  /** base_url must be set: there is no public default endpoint */
  baseUrlRequired?: boolean;
  /** the type keeps an API version in the channel's `other` field */
  apiVersion?: string;
}

export const CHANNEL_TYPES: ChannelType[] = [
  { value: 1, label: 'OpenAI', baseUrlHint: 'https://api.openai.com' },
  { value: 50, label: 'OpenAI compatible', baseUrlHint: 'https://example.com', baseUrlRequired: true },
  { value: 3, label: 'Azure OpenAI', baseUrlHint: 'https://YOUR-RESOURCE.openai.azure.com', baseUrlRequired: true, apiVersion: '2024-03-01-preview' },
  { value: 14, label: 'Anthropic Claude', baseUrlHint: 'https://api.anthropic.com' },
  { value: 24, label: 'Google Gemini', baseUrlHint: 'https://generativelanguage.googleapis.com', apiVersion: 'v1beta' },
  { value: 28, label: 'Mistral', baseUrlHint: 'https://api.mistral.ai' },
  { value: 29, label: 'Groq', baseUrlHint: 'https://api.groq.com/openai' },
  { value: 30, label: 'Ollama', baseUrlHint: 'http://localhost:11434', baseUrlRequired: true },
  { value: 36, label: 'DeepSeek', baseUrlHint: 'https://api.deepseek.com' },
  { value: 25, label: 'Moonshot', baseUrlHint: 'https://api.moonshot.cn' },
  { value: 17, label: 'Alibaba Qwen', baseUrlHint: 'https://dashscope.aliyuncs.com' },
  { value: 16, label: 'Zhipu', baseUrlHint: 'https://open.bigmodel.cn' },
  { value: 15, label: 'Baidu Wenxin', baseUrlHint: 'https://aip.baidubce.com' },
  { value: 18, label: 'iFlytek Spark' },
  { value: 23, label: 'Tencent Hunyuan' },
  { value: 26, label: 'Baichuan', baseUrlHint: 'https://api.baichuan-ai.com' },
  { value: 27, label: 'MiniMax', baseUrlHint: 'https://api.minimax.chat' },
  { value: 31, label: '01.AI', baseUrlHint: 'https://api.lingyiwanwu.com' },
  { value: 32, label: 'StepFun', baseUrlHint: 'https://api.stepfun.com' },
  { value: 35, label: 'Cohere', baseUrlHint: 'https://api.cohere.ai' },
  { value: 39, label: 'together.ai', baseUrlHint: 'https://api.together.xyz' },
  { value: 40, label: 'Doubao', baseUrlHint: 'https://ark.cn-beijing.volces.com' },
  { value: 44, label: 'SiliconFlow', baseUrlHint: 'https://api.siliconflow.cn' },
  { value: 45, label: 'xAI', baseUrlHint: 'https://api.x.ai' },
  { value: 20, label: 'OpenRouter', baseUrlHint: 'https://openrouter.ai/api' },
  { value: 8, label: 'Custom', baseUrlHint: 'https://example.com', baseUrlRequired: true },
];

export function channelType(v: number): ChannelType {
  return CHANNEL_TYPES.find((c) => c.value === v) ?? { value: v, label: `#${v}` };
}
