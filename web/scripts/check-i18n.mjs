// Fails the build when a string the console passes to t('…') has no Chinese
// entry in src/locales/zh.ts, or when zh.ts keeps an entry nothing uses.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../src/', import.meta.url).pathname;
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ts|tsx)$/.test(name) && !p.includes('/locales/')) files.push(p);
  }
})(root);

const used = new Set();
const unquote = (s) => s.replace(/\\(.)/g, '$1');
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  for (const m of src.matchAll(/\bt\('((?:[^'\\]|\\.)*)'/g)) used.add(unquote(m[1]));
  // Navigation labels are kept in a table and translated where drawn.
  if (f.endsWith('Layout.tsx')) for (const m of src.matchAll(/\blabel: '((?:[^'\\]|\\.)*)'/g)) used.add(unquote(m[1]));
  for (const m of src.matchAll(/\[\s*'((?:[^'\\]|\\.)*)',\s*'(?:green|gray|orange|red|blue)'\s*\]/g)) used.add(unquote(m[1]));
}
const groupsSrc = readFileSync(join(root, 'optionGroups.ts'), 'utf8');
for (const g of groupsSrc.match(/GROUPS = \[([^\]]*)\]/)[1].matchAll(/'([^']*)'/g)) used.add(g[1]);
// Option descriptions are translated where drawn: t(HELP[name]).
for (const m of groupsSrc.slice(groupsSrc.indexOf('export const HELP')).matchAll(/^\s+\w+: '((?:[^'\\]|\\.)*)',$/gm)) used.add(unquote(m[1]));

const zhSrc = readFileSync(join(root, 'locales/zh.ts'), 'utf8');
const have = new Set();
for (const m of zhSrc.matchAll(/^\s+(?:'((?:[^'\\]|\\.)*)'|([A-Za-z]+)):/gm)) have.add(m[1] !== undefined ? unquote(m[1]) : m[2]);

const missing = [...used].filter((s) => !have.has(s));
const unused = [...have].filter((s) => !used.has(s));
if (missing.length || unused.length) {
  if (missing.length) console.error('check-i18n: no Chinese for:\n  ' + missing.join('\n  '));
  if (unused.length) console.error('check-i18n: zh.ts entries nothing uses:\n  ' + unused.join('\n  '));
  process.exit(1);
}
console.log(`check-i18n: ${used.size} strings, all translated`);
