// A real Prometheus for tests and the demo: Debian's package, loaded with OpenMetrics data through promtool.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';

/** Prometheus serving TLS: the text of its --web.config.file, and the files a client reaches it with. */
export interface PromTls {
  readonly webConfig: string;
  readonly client: { readonly ca: string; readonly cert?: string; readonly key?: string };
}

export interface PromServer {
  readonly url: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** Installs Debian's prometheus package when the binaries are missing (needs root, as on CI and the demo machines). */
export function ensurePrometheusInstalled(): void {
  ensureInstalled('prometheus', ['prometheus', 'promtool']);
}

/** Installs a Debian package when any of its commands is missing (needs root, as on CI and the demo machines). */
export function ensureInstalled(pkg: string, commands: readonly string[]): void {
  if (commands.every(hasCommand)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${commands.join(' and ')} missing: install Debian's "${pkg}" package (apt-get install ${pkg})`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], env);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], env);
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/** `count` distinct free loopback ports: all are held at once before any is let go, so none comes back twice. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * Starts Prometheus on a free loopback port holding the series in `openMetrics`, and scraping nothing unless `config` says so.
 * TSDB blocks are built once per distinct data set and copied, since promtool is the slow part.
 */
export async function startPrometheus(
  openMetrics: string,
  opts: {
    port?: number;
    dataDir?: string;
    config?: string;
    tls?: PromTls;
    /** The loopback address to listen on (default 127.0.0.1): 127.0.0.2 and 127.0.0.3 for DNS round-robin. */
    host?: string;
    /** --web.route-prefix: the API below this path, as behind a gateway's prefix. */
    routePrefix?: string;
    /** More flags, such as --web.enable-remote-write-receiver. */
    args?: readonly string[];
  } = {},
): Promise<PromServer> {
  ensurePrometheusInstalled();
  const blocks = blocksFor(openMetrics);
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'promgate-prom-'));
  mkdirSync(dir, { recursive: true });
  const tsdb = join(dir, 'tsdb');
  rmSync(tsdb, { recursive: true, force: true });
  cpSync(blocks, tsdb, { recursive: true });
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, opts.config ?? 'global:\n  scrape_interval: 1h\n');
  const port = opts.port ?? (await freePort());
  const logFile = join(dir, 'prometheus.log');
  const log = openSync(logFile, 'w');
  const webConfig = join(dir, 'web.yml');
  if (opts.tls !== undefined) writeFileSync(webConfig, opts.tls.webConfig);
  const child = spawn('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${tsdb}`,
    `--web.listen-address=${opts.host ?? '127.0.0.1'}:${port}`,
    '--storage.tsdb.retention.time=100y',
    ...(opts.tls === undefined ? [] : [`--web.config.file=${webConfig}`]),
    ...(opts.routePrefix === undefined ? [] : [`--web.route-prefix=${opts.routePrefix}`]),
    ...(opts.args ?? []),
  ], { stdio: ['ignore', log, log] });
  const url = `${opts.tls === undefined ? 'http' : 'https'}://${opts.host ?? '127.0.0.1'}:${port}`;
  const server: PromServer = { url, dataDir: dir, stop: () => stopChild(child, opts.dataDir ? undefined : dir) };
  const client = opts.tls?.client;
  const dispatcher = client && new Agent({ connect: {
    ca: readFileSync(client.ca),
    ...(client.cert !== undefined && client.key !== undefined && { cert: readFileSync(client.cert), key: readFileSync(client.key) }),
  } });
  try {
    await waitReady(url + (opts.routePrefix ?? ''), child, dispatcher).finally(() => dispatcher?.close());
  } catch (e) {
    await server.stop();
    throw new Error(`${(e as Error).message}\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
  }
  return server;
}

function blocksFor(openMetrics: string): string {
  const digest = createHash('sha256').update(openMetrics).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'promgate-test-blocks', digest);
  if (existsSync(join(dir, 'complete'))) return join(dir, 'blocks');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'blocks'), { recursive: true });
  const input = join(dir, 'data.om');
  writeFileSync(input, openMetrics);
  run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, join(dir, 'blocks')]);
  writeFileSync(join(dir, 'complete'), '');
  return join(dir, 'blocks');
}

/** Waits for `${url}/-/ready` (Prometheus's and Alertmanager's readiness endpoint) to answer 200. */
export async function waitReady(url: string, child: ChildProcess, dispatcher?: Dispatcher, name = 'prometheus'): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with status ${child.exitCode}`);
    try {
      const res = await (dispatcher === undefined ? fetch(`${url}/-/ready`) : undiciFetch(`${url}/-/ready`, { dispatcher }));
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} at ${url} was not ready after 30 s`);
}

/** SIGTERM, then SIGKILL after 5 s; `removeDir` is removed once the child is gone. */
export function stopChild(child: ChildProcess, removeDir?: string): Promise<void> {
  const cleanup = () => { if (removeDir) rmSync(removeDir, { recursive: true, force: true }); };
  if (child.exitCode !== null || child.signalCode !== null) { cleanup(); return Promise.resolve(); }
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(kill); cleanup(); resolve(); });
    child.kill('SIGTERM');
  });
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}
