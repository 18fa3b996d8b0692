import { afterEach, describe, expect, it, vi } from 'vitest';
import { initialLang } from '../src/i18n';

function browser(languages: string[], saved: string | null) {
  vi.stubGlobal('navigator', { languages, language: languages[0] });
  vi.stubGlobal('localStorage', { getItem: () => saved, setItem: () => {} });
}

afterEach(() => vi.unstubAllGlobals());

describe('initialLang', () => {
  it("follows the browser's language until one is chosen", () => {
    browser(['zh-CN', 'en'], null);
    expect(initialLang()).toBe('zh');
    browser(['zh-TW'], null);
    expect(initialLang()).toBe('zh');
    browser(['en-GB'], null);
    expect(initialLang()).toBe('en');
    browser(['fr-FR'], null);
    expect(initialLang()).toBe('en');
  });
  it('keeps the remembered choice over the browser', () => {
    browser(['zh-CN'], 'en');
    expect(initialLang()).toBe('en');
    browser(['en-US'], 'zh');
    expect(initialLang()).toBe('zh');
  });
  it('ignores a remembered value it does not know', () => {
    browser(['en-US'], 'de');
    expect(initialLang()).toBe('en');
  });
});
