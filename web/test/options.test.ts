import { describe, expect, it } from 'vitest';
import { groupOf, isJSONOption } from '../src/optionGroups';
import { CHANNEL_TYPES, channelType, defaultModels } from '../src/channelTypes';
import { modelNames, splitList } from '../src/models';

describe('settings grouping', () => {
  it.each([
    ['SystemName', 'Site'],
    ['TurnstileSecretKey', 'Sign-in'],
    ['SMTPPort', 'Mail'],
    ['ModelRatio', 'Ratios'],
    ['UnknownModelRatio', 'Ratios'],
    ['QuotaForNewUser', 'Quota & billing'],
    ['ChannelDisableThreshold', 'Channels & relay'],
    ['StreamKeepAliveSeconds', 'Channels & relay'],
    ['SomethingNew', 'Other'],
  ])('%s goes under %s', (key, group) => {
    expect(groupOf(key)).toBe(group);
  });

  it('edits objects as JSON, and a single ratio as a plain value', () => {
    expect(isJSONOption('ModelRatio', '{"gpt-4o":1.25}')).toBe(true);
    expect(isJSONOption('ModelRatio', '')).toBe(true);
    expect(isJSONOption('UnknownModelRatio', '30')).toBe(false);
    expect(isJSONOption('Notice', 'hello {name}')).toBe(false);
  });
});

describe('channel types', () => {
  it('offers only types the server relays to as supported, each once', () => {
    const values = CHANNEL_TYPES.map((c) => c.value);
    expect(new Set(values).size).toBe(values.length);
    const supported = CHANNEL_TYPES.filter((c) => c.supported).map((c) => c.value).sort((a, b) => a - b);
    // model.ChannelTypes on the server
    expect(supported).toEqual([1, 8, 20, 25, 28, 29, 30, 36, 39, 44, 45]);
  });
  it('names an unknown type by its number', () => {
    expect(channelType(99)).toEqual({ value: 99, label: '#99', supported: false });
  });
  it("picks a provider's default models from the known list by prefix", () => {
    const known = ['deepseek-chat', 'gpt-4o', 'gpt-4o-mini', 'o3-mini', 'grok-3', 'text-embedding-3-small'];
    expect(defaultModels(channelType(1), known)).toEqual(['gpt-4o', 'gpt-4o-mini', 'o3-mini', 'text-embedding-3-small']);
    expect(defaultModels(channelType(36), known)).toEqual(['deepseek-chat']);
    expect(defaultModels(channelType(20), known)).toEqual([]);
  });
});

describe('model lists', () => {
  it('flattens names, OpenAI model objects and type maps, sorted and unique', () => {
    expect(modelNames(['b', 'a', 'a'])).toEqual(['a', 'b']);
    expect(modelNames([{ id: 'x', object: 'model' }, { id: 'w' }])).toEqual(['w', 'x']);
    expect(modelNames({ 1: ['gpt-4o'], 14: ['claude'] })).toEqual(['claude', 'gpt-4o']);
  });
  it('splits comma lists, trimming blanks', () => {
    expect(splitList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(splitList(null)).toEqual([]);
  });
});
