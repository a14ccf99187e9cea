// A real DNS server on loopback for tests: Debian's dnsmasq (dnsmasq-base), answering from a hosts file that a test
// rewrites; installed when missing (as root, as on CI).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './prometheus.js';

export interface DnsServer {
  /** `127.0.0.1:PORT`, for --dns-server. */
  readonly server: string;
  /** Replaces every answer: each name resolves to the addresses given, and nothing else resolves. */
  answer(records: Readonly<Record<string, readonly string[]>>): Promise<void>;
  stop(): Promise<void>;
}

function ensureDnsmasqInstalled(): void {
  if (spawnSync('sh', ['-c', 'command -v dnsmasq'], { stdio: 'ignore' }).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error('dnsmasq is missing: install Debian\'s "dnsmasq-base" package');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { env });
  const installed = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'dnsmasq-base'], { env, encoding: 'utf8' });
  if (installed.status !== 0) throw new Error(`apt-get install dnsmasq-base failed: ${installed.stderr}`);
}

const hostsText = (records: Readonly<Record<string, readonly string[]>>): string =>
  Object.entries(records).flatMap(([name, addresses]) => addresses.map((a) => `${a} ${name}\n`)).join('');

export async function startDns(records: Readonly<Record<string, readonly string[]>>): Promise<DnsServer> {
  ensureDnsmasqInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'promgate-dns-'));
  // dnsmasq drops its privileges after starting, and re-reads the file on SIGHUP as that user.
  chmodSync(dir, 0o755);
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, hostsText(records), { mode: 0o644 });
  const port = await freePort();
  const child = spawn('dnsmasq', [
    '--keep-in-foreground', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`, '--local-ttl=0', '--no-negcache', '--pid-file=',
  ], { stdio: 'ignore' });
  const server = `127.0.0.1:${port}`;
  const { Resolver } = await import('node:dns/promises');
  const resolver = new Resolver();
  resolver.setServers([server]);
  const first = Object.keys(records)[0]!;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited with status ${child.exitCode}`);
    if ((await resolver.resolve4(first).catch(() => [])).length > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    server,
    async answer(next) {
      writeFileSync(hosts, hostsText(next));
      child.kill('SIGHUP');
      const [name, addresses] = Object.entries(next)[0]!;
      for (let i = 0; i < 100; i++) {
        if ((await resolver.resolve4(name).catch(() => [])).sort().join() === [...addresses].sort().join()) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('dnsmasq did not take the new answer');
    },
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
