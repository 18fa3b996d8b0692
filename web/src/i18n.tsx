import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { zh } from './locales/zh';

// English strings are the keys; Chinese comes from a table. A string with no
// Chinese entry shows in English rather than as a blank.

export type Lang = 'en' | 'zh';
const STORAGE_KEY = 'switchyard.lang';

/** initialLang picks the remembered language, else the browser's. */
export function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'zh') return saved;
  } catch {
    // storage may be off; fall through to the browser's language
  }
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return nav.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export type Vars = Record<string, string | number>;
export type T = (s: string, vars?: Vars) => string;

interface I18n {
  lang: Lang;
  setLang: (l: Lang) => void;
  t: T;
}

const Ctx = createContext<I18n | null>(null);

export function fill(s: string, vars?: Vars): string {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

// The language in use, for code outside React (the API client translating
// a server error); the provider keeps it current.
let active: Lang | null = null;

/** translate is t() for code outside React components. */
export function translate(s: string, vars?: Vars): string {
  if (active === null) active = initialLang();
  return fill(active === 'zh' ? zh[s] ?? s : s, vars);
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  active = lang;
  const setLang = useCallback((l: Lang) => {
    active = l;
    setLangState(l);
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch {
      // not remembered, still switched
    }
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  }, []);
  const t = useCallback<T>((s, vars) => fill(lang === 'zh' ? zh[s] ?? s : s, vars), [lang]);
  const value = useMemo(() => ({ lang, setLang, t }), [lang, setLang, t]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
