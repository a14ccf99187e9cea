// promgate as its users run it: a child process (`node --import tsx src/cli.ts run ...`), on free loopback ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './prometheus.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'src', 'cli.ts');

/** `node --import tsx src/cli.ts ...args`, without a build. */
export function cliCommand(args: readonly string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', CLI, ...args]];
}

export interface Gateway {
  readonly base: string;
  readonly internal: string;
  readonly child: ChildProcess;
  /** The users file (basic) or other --auth-config file, to rewrite in reload tests. */
  readonly authFile: string;
  log(): string;
  /** The log once `pattern` appears in it: promgate writes its lines in batches, within 100 ms. */
  logMatching(pattern: RegExp): Promise<string>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface GatewayOptions {
  /** --prometheus-endpoint (k8spin mode); none in gateway mode, whose --config names the components. */
  upstream?: string;
  /** Users file text (basic auth, the default) or --auth-config file text; none: no --auth-config flag. */
  authConfig?: string;
  authFileName?: string;
  args?: readonly string[];
  /** The main port serves HTTPS (the args carry its --tls-* flags or --web.config.file). */
  https?: boolean;
  /** Environment variables beside the test's own (OTEL_* for tracing). */
  env?: Readonly<Record<string, string>>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'promgate-gw-'));
  const authFile = join(dir, options.authFileName ?? 'users.yaml');
  if (options.authConfig !== undefined) writeFileSync(authFile, options.authConfig);
  const [port, internalPort] = (await freePorts(2)) as [number, number];
  const logFile = join(dir, 'promgate.log');
  const [bin, argv] = cliCommand([
    'run',
    '--port', String(port),
    '--internal-port', String(internalPort),
    ...(options.upstream === undefined ? [] : ['--prometheus-endpoint', options.upstream]),
    ...(options.authConfig === undefined ? [] : ['--auth-config', authFile]),
    ...(options.args ?? []),
  ]);
  const child = spawn(bin, argv, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', openSync(logFile, 'w'), openSync(logFile, 'a')] });
  const log = () => readFileSync(logFile, 'utf8');
  const logMatching = async (pattern: RegExp): Promise<string> => {
    for (let i = 0; i < 250; i++) {
      const text = log();
      if (pattern.test(text)) return text;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no log line matches ${pattern}:\n${log().slice(-3000)}`);
  };
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const gateway: Gateway = {
    base: `${options.https === true ? 'https' : 'http'}://127.0.0.1:${port}`,
    internal: `http://127.0.0.1:${internalPort}`,
    child,
    authFile,
    log,
    logMatching,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${gateway.internal}/readyz`)).ok) return gateway;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`promgate did not start:\n${log().slice(-3000)}`);
}

export const basicAuth = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
