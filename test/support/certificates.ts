// Real certificates for the TLS tests, made by Debian's `openssl` command in a temporary directory: a root CA, a
// server certificate for 127.0.0.1 and localhost, client certificates for users, an expired one and one from a
// foreign CA. EC P-256 keys, so that making a set takes a few tens of milliseconds.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureInstalled } from './prometheus.js';

/** A certificate and its private key, as PEM files. */
export interface Pair {
  readonly cert: string;
  readonly key: string;
}

export interface Authority extends Pair {
  readonly name: string;
}

export interface IssueOptions {
  /** Subject CN. */
  readonly cn: string;
  /** subjectAltName entries as openssl writes them: `DNS:a.example`, `URI:spiffe://x/y`, `email:a@x`, `IP:127.0.0.1`. */
  readonly sans?: readonly string[];
  /** Days of validity from now; -1 makes a certificate that expired yesterday. */
  readonly days?: number;
  readonly usage: 'server' | 'client';
}

/** Installs Debian's openssl package when the command is missing (needs root, as on CI). */
export const ensureOpensslInstalled = (): void => ensureInstalled('openssl', ['openssl']);

/** Files of certificates, under one temporary directory. */
export class Certificates {
  readonly dir: string;

  constructor(dir?: string) {
    ensureOpensslInstalled();
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'promgate-pki-'));
    mkdirSync(this.dir, { recursive: true });
  }

  /** A self-signed root CA. */
  authority(name: string): Authority {
    const cert = join(this.dir, `${name}.crt`);
    const key = join(this.dir, `${name}.key`);
    const config = this.write(`${name}.cnf`, [
      '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${name}`,
      '[ext]', 'basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash',
    ]);
    run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-days', '3650', '-config', config, '-extensions', 'ext', '-set_serial', serial()]);
    return { name, cert, key };
  }

  /** A certificate signed by `ca`, stored as `<file>.crt` and `<file>.key`. */
  issue(ca: Authority, file: string, options: IssueOptions): Pair {
    const cert = join(this.dir, `${file}.crt`);
    const key = join(this.dir, `${file}.key`);
    const csr = join(this.dir, `${file}.csr`);
    const request = this.write(`${file}.req.cnf`, ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${options.cn}`]);
    const extensions = this.write(`${file}.ext.cnf`, [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      `extendedKeyUsage = ${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      'authorityKeyIdentifier = keyid',
      // A section, not a one-line list, so that a name may hold a comma (as a hostile certificate's would).
      ...(options.sans === undefined || options.sans.length === 0
        ? []
        : ['subjectAltName = @alt', '[alt]', ...options.sans.map((san, i) => `${san.slice(0, san.indexOf(':'))}.${i + 1} = ${san.slice(san.indexOf(':') + 1)}`)]),
    ]);
    run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-config', request]);
    run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial(),
      '-days', String(options.days ?? 30), '-extfile', extensions, '-out', cert]);
    return { cert, key };
  }

  /** The standard server certificate of a test: 127.0.0.1 and localhost. */
  server(ca: Authority, file: string, days = 30): Pair {
    return this.issue(ca, file, { cn: 'localhost', sans: ['IP:127.0.0.1', 'DNS:localhost'], usage: 'server', days });
  }

  /** Several PEM files in one (a CA bundle). */
  bundle(file: string, ...pems: readonly string[]): string {
    const path = join(this.dir, file);
    writeFileSync(path, pems.map((p) => readFileSync(p, 'utf8')).join(''));
    return path;
  }

  private write(name: string, lines: readonly string[]): string {
    const path = join(this.dir, name);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  }
}

/** The usual set: a CA, a server certificate, and clients alice and bob, an expired alice and a foreign-CA alice. */
export interface TestPki {
  readonly certificates: Certificates;
  readonly ca: Authority;
  readonly foreignCa: Authority;
  readonly server: Pair;
  readonly alice: Pair;
  readonly bob: Pair;
  readonly expired: Pair;
  readonly foreign: Pair;
}

export function testPki(): TestPki {
  const certificates = new Certificates();
  const ca = certificates.authority('ca');
  const foreignCa = certificates.authority('foreign-ca');
  const client = (authority: Authority, file: string, user: string, days?: number) =>
    certificates.issue(authority, file, {
      cn: user,
      sans: [`DNS:${user}.clients.example`, `URI:spiffe://example.org/${user}`, `email:${user}@example.org`],
      usage: 'client',
      ...(days !== undefined && { days }),
    });
  return {
    certificates,
    ca,
    foreignCa,
    server: certificates.server(ca, 'server'),
    alice: client(ca, 'alice', 'alice'),
    bob: client(ca, 'bob', 'bob'),
    expired: client(ca, 'alice-expired', 'alice', -1),
    foreign: client(foreignCa, 'alice-foreign', 'alice'),
  };
}

/**
 * A directory laid out as kubelet mounts a Secret: `name -> ..data/name`, `..data -> ..<version>/`. `update`
 * writes a new version directory and swaps `..data` to it in one rename, as kubelet's atomic writer does.
 */
export class SecretMount {
  private version = 0;

  constructor(
    readonly dir: string,
    files: Readonly<Record<string, string>>,
  ) {
    mkdirSync(dir, { recursive: true });
    this.update(files);
    for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
  }

  /** The mounted path of a file. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Swaps in new contents for every file: `files` maps a name to the path of the file to copy in. */
  update(files: Readonly<Record<string, string>>): void {
    const version = `..v${++this.version}`;
    mkdirSync(join(this.dir, version));
    for (const [name, from] of Object.entries(files)) writeFileSync(join(this.dir, version, name), readFileSync(from));
    symlinkSync(version, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }
}

const serial = (): string => `0x${randomBytes(8).toString('hex')}`;

function run(cmd: string, args: readonly string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}
