import { useCallback, useState } from 'react';

/**
 * useSubmit is what every form (sign-in, settings, the list pages' edit
 * forms) shares around its action: clear the error, refuse with the first
 * failed check's message, hold busy while the call runs and show the call's
 * error (the server's message, or the console's own for a known code).
 */
export function useSubmit() {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (action: () => Promise<void>, ...checks: (string | false | null | undefined)[]) => {
    setError('');
    const failed = checks.find((c): c is string => typeof c === 'string' && c !== '');
    if (failed) {
      setError(failed);
      return;
    }
    setBusy(true);
    try {
      await action();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, setError, busy, run };
}
