import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { Registry } from 'prom-client';

export interface Readiness {
  /** False before start-up completes and once draining has begun. */
  ready(): boolean;
}

/** promgate's own endpoints, on their own port so that no tenant traffic can reach them: nothing is proxied here. */
export function createInternalApp(registry: Registry, readiness: Readiness): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  app.get('/healthz', (c) => c.text('ok\n'));
  const ready = (c: Context) => (readiness.ready() ? c.text('ready\n') : c.text('not ready\n', 503));
  app.get('/readyz', ready);
  // auth-gateway's name for it, on its debug listener.
  app.get('/ready', ready);
  return app;
}
