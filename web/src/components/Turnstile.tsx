import { useEffect, useRef } from 'react';

declare global {
  interface Window {
    turnstile?: {
      render: (el: HTMLElement, opts: Record<string, unknown>) => string;
      remove: (id: string) => void;
    };
  }
}

const SCRIPT = 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit';
let loading: Promise<void> | null = null;

function loadScript(): Promise<void> {
  if (window.turnstile) return Promise.resolve();
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = SCRIPT;
      s.async = true;
      s.onload = () => resolve();
      s.onerror = () => {
        loading = null;
        reject(new Error('Turnstile script failed to load'));
      };
      document.head.appendChild(s);
    });
  }
  return loading;
}

interface Props {
  siteKey: string;
  onToken: (token: string) => void;
  onError?: (message: string) => void;
}

/** Turnstile shows Cloudflare's widget and reports each token it issues; an expired token is reported as empty. */
export default function Turnstile({ siteKey, onToken, onError }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let id: string | null = null;
    let gone = false;
    loadScript()
      .then(() => {
        if (gone || !ref.current || !window.turnstile) return;
        id = window.turnstile.render(ref.current, {
          sitekey: siteKey,
          callback: (tok: string) => onToken(tok),
          'expired-callback': () => onToken(''),
          'error-callback': () => onError?.('Turnstile check failed'),
        });
      })
      .catch((e: Error) => onError?.(e.message));
    return () => {
      gone = true;
      if (id && window.turnstile) window.turnstile.remove(id);
    };
  }, [siteKey, onToken, onError]);
  return <div ref={ref} />;
}
