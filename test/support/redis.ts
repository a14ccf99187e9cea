// A real Redis for tests: Debian's redis-server on a free loopback port, nothing saved to disk.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './prometheus.js';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: the server goes away at once, as a crashed one does. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Installs Debian's redis-server package when it is missing (needs root, as on CI). */
export function ensureRedisInstalled(): void {
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error('redis-server is missing: install Debian\'s "redis-server" package');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'redis-server']]) {
    const run = spawnSync('apt-get', args, { env, stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed`);
  }
}

export async function startRedis(): Promise<RedisServer> {
  ensureRedisInstalled();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'promgate-redis-'));
  let child: ChildProcess | undefined;
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const start = async (): Promise<void> => {
    const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    child = started;
    for (let i = 0; i < 100; i++) {
      if (exited(started)) throw new Error(`redis-server exited with status ${started.exitCode}`);
      if (await answersPing(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not answer PING within 5 s');
  };
  const end = (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (c === undefined || exited(c)) return Promise.resolve();
    return new Promise((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => end('SIGKILL'),
    restart: start,
    stop: async () => {
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
