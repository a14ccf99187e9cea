import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { Registry } from 'prom-client';
import { mountProfiling } from './profiling.js';

export interface Readiness {
  /** False before start-up completes and once draining has begun. */
  ready(): boolean;
}

/**
 * promgate's own endpoints, on their own port so that no tenant traffic can reach them: nothing is proxied here.
 * With `profiling`, a CPU profile and a heap snapshot too, to loopback connections only (see profiling.ts).
 */
export function createInternalApp(registry: Registry, readiness: Readiness, profiling = false): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  app.get('/healthz', (c) => c.text('ok\n'));
  const ready = (c: Context) => (readiness.ready() ? c.text('ready\n') : c.text('not ready\n', 503));
  app.get('/readyz', ready);
  // auth-gateway's name for it, on its debug listener.
  app.get('/ready', ready);
  if (profiling) mountProfiling(app);
  return app;
}
