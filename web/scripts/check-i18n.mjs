// Fails the build when a string the console passes to t('…') has no Chinese
// entry in src/locales/zh.ts, or when zh.ts keeps an entry nothing uses;
// and when the server issues an error code (WithCode("…") in the Go
// sources) or a log code (model/log_detail.go) that src/messages.ts does
// not translate.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// I18N_WEB_SRC and I18N_REPO point the check elsewhere (its own test does).
const root = process.env.I18N_WEB_SRC || new URL('../src/', import.meta.url).pathname;
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
// Option labels and descriptions are translated where drawn: t(LABELS[name]), t(HELP[name]).
function optionTable(name) {
  const body = groupsSrc.match(new RegExp(`export const ${name}[^=]*= \\{([\\s\\S]*?)\\n\\};`))[1];
  return new Map([...body.matchAll(/^\s+(\w+): '((?:[^'\\]|\\.)*)',$/gm)].map((m) => [m[1], unquote(m[2])]));
}
const optionLabels = optionTable('LABELS');
const optionHelp = optionTable('HELP');
for (const v of [...optionLabels.values(), ...optionHelp.values()]) used.add(v);

// The server's codes and the console's sentences for them.
const messagesSrc = readFileSync(join(root, 'messages.ts'), 'utf8');
function table(name) {
  const body = messagesSrc.match(new RegExp(`export const ${name}[^=]*= \\{([\\s\\S]*?)\\n\\};`))[1];
  const out = new Map();
  for (const m of body.matchAll(/^\s+(\w+): '((?:[^'\\]|\\.)*)',$/gm)) out.set(m[1], unquote(m[2]));
  return out;
}
const errorMessages = table('ERROR_MESSAGES');
const logMessages = table('LOG_MESSAGES');
for (const v of [...errorMessages.values(), ...logMessages.values()]) used.add(v);

const repo = process.env.I18N_REPO || new URL('../../', import.meta.url).pathname;
const serverCodes = new Set();
(function walkGo(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'web' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walkGo(p);
    else if (name.endsWith('.go') && !name.endsWith('_test.go')) {
      const src = readFileSync(p, 'utf8');
      for (const m of src.matchAll(/\.WithCode\("([a-z_]+)"\)/g)) serverCodes.add(m[1]);
      // Codes handed on as values: an outside sign-in's taken code
      // (controller/oauth*.go) and the token exchange's refusal code
      // (common/oauth).
      for (const m of src.matchAll(/\b(?:code|taken):\s+"([a-z_]+)"/g)) serverCodes.add(m[1]);
      for (const m of src.matchAll(/\bexchange\([^\n]*,\s*"([a-z_]+)"\)/g)) serverCodes.add(m[1]);
    }
  }
})(repo);
const logSrc = readFileSync(join(repo, 'model/log_detail.go'), 'utf8');
const logCodes = new Set([...logSrc.match(/logTemplates = map\[string\]string\{([\s\S]*?)\n\}/)[1].matchAll(/^\s+"(\w+)":/gm)].map((m) => m[1]));
// Every option the server defines (model/option_defs*.go) needs a label and a line of help.
const serverOptions = new Set();
for (const name of readdirSync(join(repo, 'model'))) {
  if (!/^option_defs.*\.go$/.test(name)) continue;
  for (const m of readFileSync(join(repo, 'model', name), 'utf8').matchAll(/^\s+"(\w+)":\s+\{Kind:/gm)) serverOptions.add(m[1]);
}
const untranslatedCodes = [
  ...[...serverOptions].filter((o) => !optionLabels.has(o)).map((o) => `option ${o} has no label (add it to LABELS in optionGroups.ts)`),
  ...[...serverOptions].filter((o) => !optionHelp.has(o)).map((o) => `option ${o} has no help (add it to HELP in optionGroups.ts)`),
  ...[...serverCodes].filter((c) => !errorMessages.has(c)).map((c) => `error code ${c} (add it to ERROR_MESSAGES)`),
  ...[...logCodes].filter((c) => !logMessages.has(c)).map((c) => `log code ${c} (add it to LOG_MESSAGES)`),
];
if (!serverCodes.size || !logCodes.size || !serverOptions.size) {
  console.error('check-i18n: found no server codes; did the Go sources move?');
  process.exit(1);
}

const zhSrc = readFileSync(join(root, 'locales/zh.ts'), 'utf8');
const have = new Set();
for (const m of zhSrc.matchAll(/^\s+(?:'((?:[^'\\]|\\.)*)'|([A-Za-z]+)):/gm)) have.add(m[1] !== undefined ? unquote(m[1]) : m[2]);

const missing = [...used].filter((s) => !have.has(s));
const unused = [...have].filter((s) => !used.has(s));
if (missing.length || unused.length || untranslatedCodes.length) {
  if (untranslatedCodes.length) console.error('check-i18n: the server issues codes the console does not translate:\n  ' + untranslatedCodes.join('\n  '));
  if (missing.length) console.error('check-i18n: no Chinese for:\n  ' + missing.join('\n  '));
  if (unused.length) console.error('check-i18n: zh.ts entries nothing uses:\n  ' + unused.join('\n  '));
  process.exit(1);
}
console.log(`check-i18n: ${used.size} strings and ${serverCodes.size + logCodes.size} server codes, all translated`);
