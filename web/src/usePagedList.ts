import { useCallback, useEffect, useState } from 'react';
import { listPage, qs } from './api';
import { notifyError, notifyOk } from './util';

// usePagedList is the state every server-paged, searchable list keeps:
// the rows of the current page, the total when the server reports one,
// paging, the search box and its submitted keyword. base is the list's
// path ("/api/token/"); searches go to base + "search".
export function usePagedList<T>(base: string, initialPageSize = 20) {
  const [rows, setRows] = useState<T[]>([]);
  const [total, setTotal] = useState<number | undefined>();
  const [page, setPage] = useState(0);
  const [pageSize, setSize] = useState(initialPageSize);
  const [keyword, setKeyword] = useState('');
  const [searching, setSearching] = useState('');
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const path = searching
        ? `${base}search${qs({ keyword: searching, p: page, page_size: pageSize })}`
        : `${base}${qs({ p: page, page_size: pageSize })}`;
      const r = await listPage<T>(path);
      setRows(r.items);
      setTotal(r.total);
    } catch (e) {
      notifyError(e);
    } finally {
      setLoading(false);
    }
  }, [base, page, pageSize, searching]);

  useEffect(() => {
    load();
  }, [load]);

  // search submits the search box and goes back to the first page.
  const search = () => {
    setPage(0);
    setSearching(keyword.trim());
  };
  // setPageSize changes the page size and goes back to the first page.
  const setPageSize = (n: number) => {
    setSize(n);
    setPage(0);
  };
  // act runs one change to a row (enable, disable, delete, …), says ok on
  // success or the API's message on failure, and reloads the page.
  const act = async (call: () => Promise<unknown>, ok: string) => {
    try {
      await call();
      notifyOk(ok);
      load();
    } catch (e) {
      notifyError(e);
    }
  };
  return { rows, total, page, setPage, pageSize, setPageSize, keyword, setKeyword, search, loading, load, act };
}
