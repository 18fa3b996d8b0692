import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const web = new URL('..', import.meta.url).pathname;
const repo = new URL('../..', import.meta.url).pathname;

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** fixture copies the console's sources and the server files the check reads into a fresh directory, removed after the test. */
function fixture(): { dir: string; src: string } {
  const dir = mkdtempSync(join(tmpdir(), 'check-i18n-'));
  made.push(dir);
  const src = join(dir, 'web', 'src');
  cpSync(join(web, 'src'), src, { recursive: true });
  mkdirSync(join(dir, 'model'));
  for (const f of readdirSync(join(repo, 'model'))) {
    if (f === 'log_detail.go' || /^option_defs.*\.go$/.test(f)) cpSync(join(repo, 'model', f), join(dir, 'model', f));
  }
  writeFileSync(join(dir, 'codes.go'), 'package x\n\nvar e = errs.Unauthorized("wrong").WithCode("wrong_credentials")\n');
  return { dir, src };
}

function check(dir: string, src: string) {
  const r = spawnSync(process.execPath, [join(web, 'scripts', 'check-i18n.mjs')], {
    env: { ...process.env, I18N_REPO: dir, I18N_WEB_SRC: src },
    encoding: 'utf8',
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('check-i18n', () => {
  it('passes on the console as it is', () => {
    const { dir, src } = fixture();
    expect(check(dir, src).status).toBe(0);
  });
  it('fails on a label with no Chinese', () => {
    const { dir, src } = fixture();
    writeFileSync(join(src, 'pages', 'Extra.tsx'), "export const x = (t: (s: string) => string) => t('A label nobody translated');\n");
    const r = check(dir, src);
    expect(r.status).toBe(1);
    expect(r.out).toContain('A label nobody translated');
  });
  it('fails on an error code the server issues and the console does not translate', () => {
    const { dir, src } = fixture();
    appendFileSync(join(dir, 'codes.go'), 'var f = errs.BadRequest("new").WithCode("brand_new_code")\n');
    const r = check(dir, src);
    expect(r.status).toBe(1);
    expect(r.out).toContain('error code brand_new_code');
  });
  it('fails on a server option with no label', () => {
    const { dir, src } = fixture();
    writeFileSync(join(dir, 'model', 'option_defs_new.go'), 'package model\n\nvar d = map[string]OptionDef{\n\t"BrandNewOption": {Kind: OptBool, Default: "false"},\n}\n');
    const r = check(dir, src);
    expect(r.status).toBe(1);
    expect(r.out).toContain('option BrandNewOption has no label');
  });
});
