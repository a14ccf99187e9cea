import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SecureListener } from '../tls/listener.js';

type FetchApp = { fetch: (request: Request, env: never) => Response | Promise<Response> };

// Longer than the idle timeouts of the clients and load balancers in front (Go's HTTP client, which Grafana uses:
// 90 s; most cloud load balancers: 60 s), so that promgate never closes a kept-alive connection just as a request
// is sent on it: Grafana's queries are POSTs, which a client does not retry.
const KEEP_ALIVE_TIMEOUT_MS = 120_000;

// Go's http.Server default, which Prometheus and k8spin's proxy run with: a GET query as long as Prometheus takes
// (Node's own default, 16 KiB, would refuse long dashboard queries with 431).
const MAX_HEADER_BYTES = 1 << 20;

/**
 * Starts an HTTP server for a Hono app, or an HTTPS one given `tls`; resolves once it listens (port 0 picks a free
 * one) on `host` (every interface when unset), rejects if it cannot.
 */
export function listen(app: FetchApp, port: number, tls?: SecureListener, host?: string): Promise<Server> {
  const fetch = app.fetch as never;
  const server =
    tls === undefined
      ? (createAdaptorServer({ fetch, serverOptions: { maxHeaderSize: MAX_HEADER_BYTES } }) as Server)
      : (createAdaptorServer({ fetch, createServer: createHttpsServer, serverOptions: { ...tls.serverOptions, maxHeaderSize: MAX_HEADER_BYTES } }) as HttpsServer);
  if (tls !== undefined) tls.attach(server as HttpsServer);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export const portOf = (server: Server): number => (server.address() as AddressInfo).port;

/**
 * Stops accepting connections, lets requests in flight finish for at most `boundMs`, then cuts what is left.
 * Keep-alive connections are closed as soon as they fall idle, so that clients move to another replica.
 */
export function drain(server: Server, boundMs: number, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const cut = setTimeout(() => {
      logger.warn({ boundMs }, 'requests still in flight at the end of the shutdown bound: closing their connections');
      server.closeAllConnections();
    }, boundMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
