import { describe, expect, it } from 'vitest';
import { groupOf, isJSONOption } from '../src/optionGroups';
import { defaultTestModel, isChatModel, typeName } from '../src/channelTypes';
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
    ['GroupRateLimits', 'Channels & relay'],
    ['StickyRoutingEnabled', 'Channels & relay'],
    ['ChannelDemoteSeconds', 'Channels & relay'],
    ['QuotaPeriodTimeZone', 'Quota & billing'],
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
  const types = [
    { type: 1, name: 'OpenAI', base_url: 'https://api.openai.com', base_url_required: false, models: [], other: '', other_default: '', config: [], key_hint: '' },
  ];
  it('names a type the server lists, and any other by its number', () => {
    expect(typeName(types, 1)).toBe('OpenAI');
    expect(typeName(types, 99)).toBe('#99');
    expect(typeName(null, 1)).toBe('#1');
  });
  it('tests the first chat model, never an image, audio or embedding model', () => {
    expect(defaultTestModel(['dall-e-2', 'text-embedding-3-small', 'tts-1', 'whisper-1', 'omni-moderation-latest', 'gpt-4o-mini', 'gpt-4o'])).toBe('gpt-4o-mini');
    expect(defaultTestModel(['dall-e-3'])).toBeUndefined();
    expect(isChatModel('deepseek-chat')).toBe(true);
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
