// A real Alertmanager for tests: Debian's prometheus-alertmanager package (0.25), clustering off.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureInstalled, freePort, stopChild, waitReady } from './prometheus.js';

export interface AlertmanagerServer {
  /** Its base URL, the route prefix included. */
  readonly url: string;
  /** host:port, as Prometheus's alerting configuration names it. */
  readonly address: string;
  log(): string;
  stop(): Promise<void>;
}

export function ensureAlertmanagerInstalled(): void {
  ensureInstalled('prometheus-alertmanager', ['prometheus-alertmanager']);
}

/** Starts Alertmanager on a free loopback port with this configuration (YAML), its API below `routePrefix` if given. */
export async function startAlertmanager(config: string, opts: { routePrefix?: string } = {}): Promise<AlertmanagerServer> {
  ensureAlertmanagerInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'promgate-am-'));
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, config);
  const port = await freePort();
  const logFile = join(dir, 'alertmanager.log');
  const out = openSync(logFile, 'w');
  const child = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // No gossip: an empty address turns clustering off (and keeps port 9094 free).
      '--cluster.listen-address=',
      ...(opts.routePrefix === undefined ? [] : [`--web.route-prefix=${opts.routePrefix}`]),
    ],
    { stdio: ['ignore', out, out] },
  );
  const url = `http://127.0.0.1:${port}${opts.routePrefix ?? ''}`;
  const log = () => readFileSync(logFile, 'utf8');
  const server: AlertmanagerServer = { url, address: `127.0.0.1:${port}`, log, stop: () => stopChild(child, dir) };
  try {
    await waitReady(url, child, undefined, 'alertmanager');
  } catch (e) {
    const tail = log().slice(-2000);
    await server.stop();
    throw new Error(`${(e as Error).message}\n${tail}`);
  }
  return server;
}
