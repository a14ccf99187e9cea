import type { Upstream } from './upstream.js';

/** An upstream whose connection pool can be replaced while requests run (new TLS certificates, say). */
export interface SwappableUpstream extends Upstream {
  /** New requests go to `next`; the pool replaced finishes the requests it has, then closes. */
  replace(next: Upstream): void;
}

export function swappable(first: Upstream): SwappableUpstream {
  let current = first;
  const retiring = new Set<Promise<void>>();
  return {
    request: (req) => current.request(req),
    dispatch: (req, handler) => current.dispatch(req, handler),
    replace(next) {
      const old = current;
      current = next;
      // undici's close waits for the requests already sent, answers streaming included, and opens no new connection.
      const closing = old.close().catch(() => undefined);
      retiring.add(closing);
      void closing.then(() => retiring.delete(closing));
    },
    close: async () => {
      await Promise.all([current.close(), ...retiring]);
    },
  };
}
