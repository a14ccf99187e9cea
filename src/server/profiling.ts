import type { HttpBindings } from '@hono/node-server';
import type { Hono } from 'hono';
import { Session } from 'node:inspector/promises';
import { Readable } from 'node:stream';
import { getHeapSnapshot } from 'node:v8';

// As Go's net/http/pprof: 30 s unless asked otherwise; beyond 5 minutes a profile is more likely a mistake.
const DEFAULT_SECONDS = 30;
const MAX_SECONDS = 300;

/**
 * Whether a connection was made to a loopback address. A packet from elsewhere cannot arrive addressed to
 * 127.0.0.0/8 or ::1, so this holds whatever address the listener is bound to: the profiling endpoints answer
 * only on the pod itself (`kubectl port-forward` connects there), while /metrics stays open to scrapers.
 */
export function isLoopback(localAddress: string | undefined): boolean {
  if (localAddress === undefined) return false;
  const v4 = localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
  return v4.startsWith('127.') || localAddress === '::1';
}

const problem = (error: string, errorType = 'bad_data') => ({ status: 'error', errorType, error });

/**
 * `/debug/pprof/profile?seconds=N`, a CPU profile taken through node:inspector (Chrome DevTools' `.cpuprofile`
 * JSON), and `/debug/pprof/heap`, a V8 heap snapshot (`.heapsnapshot`). A heap snapshot holds every secret in
 * memory (passwords, JWT secrets, tokens in flight), hence only on loopback connections, and only when asked for.
 * Anything else (another address, or a path not served) is left to the app's own 404.
 */
export function mountProfiling(app: Hono<{ Bindings: HttpBindings }>): void {
  let profiling = false;
  app.use('/debug/pprof/*', async (c, next) => {
    if (!isLoopback(c.env.incoming.socket.localAddress)) return c.json(problem(`${c.req.path}: not found`, 'not_found'), 404);
    await next();
  });

  app.get('/debug/pprof/profile', async (c) => {
    const asked = c.req.query('seconds') ?? String(DEFAULT_SECONDS);
    const seconds = /^\d{1,4}$/.test(asked) ? Number(asked) : NaN;
    if (!(seconds >= 1 && seconds <= MAX_SECONDS)) return c.json(problem(`seconds must be a whole number from 1 to ${MAX_SECONDS}`), 400);
    // One profile at a time: two would each see the other's overhead, and V8 has one sampling profiler.
    if (profiling) return c.json(problem('a CPU profile is being taken already; retry when it ends', 'unavailable'), 503);
    profiling = true;
    const session = new Session();
    session.connect();
    try {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      const { profile } = await session.post('Profiler.stop');
      return c.body(JSON.stringify(profile), 200, {
        'content-type': 'application/json',
        'content-disposition': 'attachment; filename="promgate.cpuprofile"',
      });
    } finally {
      session.disconnect();
      profiling = false;
    }
  });

  app.get('/debug/pprof/heap', (c) =>
    // The snapshot is written while the event loop waits, then streamed out as V8 serialises it.
    c.body(Readable.toWeb(getHeapSnapshot()) as ReadableStream, 200, {
      'content-type': 'application/json',
      'content-disposition': 'attachment; filename="promgate.heapsnapshot"',
    }),
  );
}
