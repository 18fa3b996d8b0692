import { useEffect, useState } from 'react';
import { Checkbox, Table } from '@mantine/core';
import { useI18n } from '../i18n';
import { api } from '../api';
import { notifyError, notifyOk } from '../util';
import ConfirmButton from './ConfirmButton';

/** Selection is the rows picked on a list page, for an action on all of them at once. */
export interface Selection {
  picked: number[];
  has: (id: number) => boolean;
  toggle: (id: number) => void;
  all: boolean;
  some: boolean;
  toggleAll: () => void;
  clear: () => void;
}

/** useSelection keeps the ids picked among rows; when the rows change (another page, a search), only the picked ids still shown stay picked. */
export function useSelection(rows: { id: number }[]): Selection {
  const [picked, setPicked] = useState<Set<number>>(() => new Set());
  useEffect(() => {
    setPicked((p) => {
      const shown = new Set(rows.map((r) => r.id));
      const next = new Set([...p].filter((id) => shown.has(id)));
      return next.size === p.size ? p : next;
    });
  }, [rows]);
  const all = rows.length > 0 && rows.every((r) => picked.has(r.id));
  return {
    picked: [...picked],
    has: (id) => picked.has(id),
    toggle: (id) =>
      setPicked((p) => {
        const n = new Set(p);
        if (!n.delete(id)) n.add(id);
        return n;
      }),
    all,
    some: picked.size > 0 && !all,
    toggleAll: () => setPicked(all ? new Set() : new Set(rows.map((r) => r.id))),
    clear: () => setPicked(new Set()),
  };
}

/** SelectAllHeader is the header cell that picks or drops every row shown. */
export function SelectAllHeader({ sel }: { sel: Selection }) {
  const { t } = useI18n();
  return (
    <Table.Th w={32}>
      <Checkbox size="xs" aria-label={t('Select all')} checked={sel.all} indeterminate={sel.some} onChange={sel.toggleAll} data-testid="select-all" />
    </Table.Th>
  );
}

/** SelectCell is a row's pick box. */
export function SelectCell({ sel, id, name }: { sel: Selection; id: number; name: string }) {
  const { t } = useI18n();
  return (
    <Table.Td>
      <Checkbox size="xs" aria-label={t('Select {name}', { name })} checked={sel.has(id)} onChange={() => sel.toggle(id)} data-testid="row-select" />
    </Table.Td>
  );
}

/** DeletePicked deletes the picked rows with one POST of {ids} to path (new-api's batch routes), which answers how many went. */
export function DeletePicked({ sel, path, onDone }: { sel: Selection; path: string; onDone: () => void }) {
  const { t } = useI18n();
  const n = sel.picked.length;
  if (!n) return null;
  const remove = async () => {
    try {
      const gone = await api<number>('POST', path, { ids: sel.picked });
      notifyOk(t('Deleted {n}', { n: typeof gone === 'number' ? gone : 0 }));
      sel.clear();
      onDone();
    } catch (e) {
      notifyError(e);
    }
  };
  return (
    <ConfirmButton size="xs" variant="light" color="red" question={t('Delete the {n} selected?', { n })} onConfirm={remove} data-testid="delete-picked">
      {t('Delete selected ({n})', { n })}
    </ConfirmButton>
  );
}
