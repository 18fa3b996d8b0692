import { useEffect, useState } from 'react';
import { Group, Switch, TextInput, Textarea, Button, Text, Stack, PasswordInput } from '@mantine/core';
import { useI18n } from '../i18n';
import { HELP, LABELS, isJSONOption, LONG_TEXT } from '../optionGroups';
import GroupLimitsEditor from './GroupLimitsEditor';

interface Props {
  name: string;
  value: string;
  secret?: boolean;
  onSave: (key: string, value: string) => Promise<boolean>;
}

function jsonError(s: string): string | null {
  if (!s.trim()) return null;
  try {
    JSON.parse(s);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** OptionField edits one runtime option with the editor its value calls for, and saves it alone. */
/** pretty indents a JSON value for editing; what does not parse is left as it is. */
function pretty(s: string): string {
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}

export default function OptionField({ name, value, secret, onSave }: Props) {
  const { t } = useI18n();
  const isBool = value === 'true' || value === 'false';
  const isJSON = !secret && isJSONOption(name, value);
  // Ratio tables arrive on one line; they are edited indented.
  const shown = isJSON && value.trim() ? pretty(value) : value;
  const [draft, setDraft] = useState(shown);
  const [busy, setBusy] = useState(false);
  useEffect(() => setDraft(shown), [shown]);

  const help = HELP[name] ? t(HELP[name]) : undefined;
  const err = isJSON ? jsonError(draft) : null;
  const dirty = draft !== shown;

  const save = async (v: string) => {
    setBusy(true);
    const ok = await onSave(name, v);
    setBusy(false);
    if (!ok) setDraft(shown);
    else if (secret) setDraft('');
  };

  // The option in words, its key small beside it for those who script.
  const label = (
    <Group gap={6} component="span" display="inline-flex">
      <Text size="sm" fw={500} component="span">{LABELS[name] ? t(LABELS[name]) : name}</Text>
      {LABELS[name] && <Text size="xs" c="dimmed" className="mono" component="span">{name}</Text>}
    </Group>
  );

  if (name === 'GroupRateLimits') return <GroupLimitsEditor value={value} label={label} help={help} onSave={(v) => onSave(name, v)} />;

  if (isBool) {
    return (
      <Switch
        label={label}
        description={help}
        checked={draft === 'true'}
        disabled={busy}
        onChange={(e) => {
          const v = e.currentTarget.checked ? 'true' : 'false';
          setDraft(v);
          save(v);
        }}
      />
    );
  }

  let input;
  if (secret) {
    input = (
      <PasswordInput
        label={label}
        description={help}
        placeholder={t('Not shown; type a new value to replace it')}
        value={draft}
        onChange={(e) => setDraft(e.currentTarget.value)}
      />
    );
  } else if (isJSON || LONG_TEXT.has(name) || value.includes('\n') || value.length > 80) {
    input = (
      <Textarea
        label={label}
        description={help}
        autosize
        minRows={isJSON ? 4 : 2}
        maxRows={18}
        classNames={isJSON ? { input: 'mono' } : undefined}
        value={draft}
        error={err ? t('Invalid JSON: {e}', { e: err }) : undefined}
        onChange={(e) => setDraft(e.currentTarget.value)}
      />
    );
  } else {
    input = <TextInput label={label} description={help} value={draft} onChange={(e) => setDraft(e.currentTarget.value)} />;
  }

  return (
    <Stack gap={4}>
      {input}
      <Group gap="xs" justify="flex-end">
        {isJSON && (
          <Button
            size="compact-xs"
            variant="subtle"
            disabled={!!err || !draft.trim()}
            onClick={() => setDraft(JSON.stringify(JSON.parse(draft), null, 2))}
          >
            {t('Format')}
          </Button>
        )}
        {dirty && !secret && (
          <Button size="compact-xs" variant="subtle" onClick={() => setDraft(shown)}>
            {t('Undo')}
          </Button>
        )}
        <Button size="compact-xs" disabled={!dirty || !!err} loading={busy} onClick={() => save(draft)}>
          {t('Save')}
        </Button>
      </Group>
    </Stack>
  );
}
