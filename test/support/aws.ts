// Stand-ins for what of AWS cannot run here, each declared as one: AMP (a SigV4-checking proxy in front of a real
// Prometheus, test/support/sigv4-verifier.py, which recomputes signatures with botocore), and the services
// credentials come from (STS, the ECS/EKS container credentials endpoint, EC2's IMDSv2), all on loopback.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VERIFIER = fileURLToPath(new URL('./sigv4-verifier.py', import.meta.url));
// Debian's python3, whose python3-botocore the verifier imports (not whatever python3 comes first on PATH).
export const PYTHON = '/usr/bin/python3';
/** AMP's URL shape: every API below the workspace. */
export const WORKSPACE_PREFIX = '/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef';

/** Installs Debian's python3-botocore when Debian's python3 cannot import botocore (needs root, as on CI). */
export function ensureBotocore(): void {
  const importable = () => spawnSync(PYTHON, ['-c', 'import botocore'], { stdio: 'ignore' }).status === 0;
  if (importable()) return;
  if (process.getuid?.() !== 0) throw new Error(`${PYTHON} cannot import botocore: install Debian's "python3-botocore" package`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'python3-botocore']]) {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed: ${r.stderr}`);
  }
}

export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Unix milliseconds; unset: they never expire. */
  readonly expiresAt?: number;
}

/** The credentials AMP's stand-in accepts: a JSON file it reads on every request. */
export class KeyRing {
  private readonly keys = new Map<string, IssuedCredentials>();
  constructor(readonly file: string) {
    this.write();
  }

  add(credentials: IssuedCredentials): IssuedCredentials {
    this.keys.set(credentials.accessKeyId, credentials);
    this.write();
    return credentials;
  }

  /** New temporary credentials, accepted from now on. */
  issue(lifetimeMs: number): IssuedCredentials {
    return this.add({
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(60).toString('base64'),
      expiresAt: Date.now() + lifetimeMs,
    });
  }

  private write(): void {
    const json = Object.fromEntries(
      [...this.keys.values()].map((k) => [k.accessKeyId, { secret: k.secretAccessKey, token: k.sessionToken ?? null, expires: k.expiresAt === undefined ? null : k.expiresAt / 1000 }]),
    );
    // Written whole, then renamed: the verifier never reads half a file.
    writeFileSync(`${this.file}.tmp`, JSON.stringify(json));
    renameSync(`${this.file}.tmp`, this.file);
  }
}

export interface Verdict {
  readonly method: string;
  readonly path: string;
  readonly ok: boolean;
  readonly key?: string;
  readonly type?: string;
  readonly reason?: string;
}

export interface Verifier {
  /** Its base URL, AMP's workspace prefix included. */
  readonly url: string;
  /** Its origin: any /workspaces/<id> below it is the same workspace. */
  readonly origin: string;
  readonly keys: KeyRing;
  /** Every request's verdict so far, in order. */
  verdicts(): Verdict[];
  stop(): Promise<void>;
}

/** AMP's stand-in: checks each request's SigV4 signature with botocore, then forwards it to `upstream` (a real Prometheus). */
export async function startVerifier(options: { upstream: string; region?: string; service?: string }): Promise<Verifier> {
  ensureBotocore();
  const dir = mkdtempSync(join(tmpdir(), 'promgate-amp-'));
  const keys = new KeyRing(join(dir, 'keys.json'));
  const log = join(dir, 'verdicts.jsonl');
  writeFileSync(log, '');
  const child = spawn(
    PYTHON,
    [
      VERIFIER, '--port', '0', '--upstream', options.upstream, '--keys', keys.file, '--log', log,
      '--region', options.region ?? 'us-east-1', '--service', options.service ?? 'aps',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the SigV4 verifier exited (${code}) before listening: ${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}${WORKSPACE_PREFIX}`,
    origin: `http://127.0.0.1:${port}`,
    keys,
    verdicts: () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Verdict),
    stop: () => stopProcess(child),
  };
}

/** The signature each AWS test-suite request gets from the verifier's own check (botocore). */
export function verifierSignatures(cases: readonly object[]): { name: string; authorization: string }[] {
  ensureBotocore();
  const file = join(mkdtempSync(join(tmpdir(), 'promgate-vectors-')), 'vectors.json');
  writeFileSync(file, JSON.stringify(cases));
  const r = spawnSync(PYTHON, [VERIFIER, '--vectors', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the verifier failed on the vectors: ${r.stderr}`);
  return JSON.parse(r.stdout) as { name: string; authorization: string }[];
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Which stand-in gave credentials. */
export type CredentialSource = 'sts-web-identity' | 'sts-assume-role' | 'ecs' | 'imds';

export interface CredentialService {
  /** http://127.0.0.1:port */
  readonly url: string;
  /** AWS_CONTAINER_CREDENTIALS_FULL_URI's value. */
  readonly ecsUrl: string;
  /** How long the credentials it hands out last. */
  lifetimeMs: number;
  /** While set, every credential request fails with 500. */
  failing: boolean;
  /** What each source has handed out, in order. */
  readonly issued: Record<CredentialSource, IssuedCredentials[]>;
  /** Every request, for what the SDK sent (the IMDSv2 token, the web identity token, the authorization). */
  readonly requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  /** Holds credential answers until the returned function is called (or `maxMs` passes). */
  hold(maxMs: number): () => void;
  stop(): Promise<void>;
}

// The role IMDS names, and the identities the stand-ins expect.
export const IMDS_ROLE = 'promgate-node-role';
export const ECS_AUTHORIZATION = 'eks-pod-identity-token-for-tests';

/**
 * STS (AssumeRoleWithWebIdentity and AssumeRole, in AWS's query protocol: a form POST answered with XML), the
 * container credentials endpoint (ECS, EKS Pod Identity: JSON, with an Authorization it checks), and EC2's IMDSv2
 * (a session token from PUT /latest/api/token, required on every read), on one loopback port. Credentials it hands
 * out are new each time and added to `keys`, so AMP's stand-in accepts them until they expire.
 */
export async function startCredentialService(keys: KeyRing, options: { webIdentityToken?: string; assumeRoleKey?: string } = {}): Promise<CredentialService> {
  const imdsTokens = new Set<string>();
  let held: Promise<void> | undefined;
  const service: Omit<CredentialService, 'url' | 'ecsUrl' | 'stop'> = {
    lifetimeMs: 3_600_000,
    failing: false,
    issued: { 'sts-web-identity': [], 'sts-assume-role': [], ecs: [], imds: [] },
    requests: [],
    hold(maxMs) {
      let release!: () => void;
      held = new Promise<void>((resolve) => {
        release = resolve;
        setTimeout(resolve, maxMs).unref();
      });
      return () => release();
    },
  };
  const issue = (source: CredentialSource): IssuedCredentials => {
    const credentials = keys.issue(service.lifetimeMs);
    service.issued[source].push(credentials);
    return credentials;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string): Promise<void> => {
    const send = (status: number, type: string, text: string) => res.writeHead(status, { 'content-type': type }).end(text);
    const path = req.url ?? '';
    // IMDSv2: the session token first; every read must carry it (IMDSv1 reads are refused).
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT' || req.headers['x-aws-ec2-metadata-token-ttl-seconds'] === undefined) return send(400, 'text/plain', 'bad token request');
      const token = randomBytes(16).toString('hex');
      imdsTokens.add(token);
      return send(200, 'text/plain', token);
    }
    if (path.startsWith('/latest/meta-data/')) {
      if (!imdsTokens.has(String(req.headers['x-aws-ec2-metadata-token']))) return send(401, 'text/plain', 'Unauthorized');
      if (path === '/latest/meta-data/iam/security-credentials/') return send(200, 'text/plain', IMDS_ROLE);
      if (path !== `/latest/meta-data/iam/security-credentials/${IMDS_ROLE}`) return send(404, 'text/plain', 'Not Found');
      await held;
      if (service.failing) return send(500, 'text/plain', 'Internal Server Error');
      const c = issue('imds');
      return send(200, 'text/plain', JSON.stringify({
        Code: 'Success', LastUpdated: new Date().toISOString(), Type: 'AWS-HMAC',
        AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: new Date(c.expiresAt!).toISOString(),
      }));
    }
    if (path === '/ecs/credentials') {
      if (req.headers.authorization !== ECS_AUTHORIZATION) return send(403, 'application/json', '{"message":"bad authorization"}');
      await held;
      if (service.failing) return send(500, 'application/json', '{"message":"unavailable"}');
      const c = issue('ecs');
      return send(200, 'application/json', JSON.stringify({
        AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: new Date(c.expiresAt!).toISOString(),
      }));
    }
    if (path === '/' && req.method === 'POST') {
      const form = new URLSearchParams(body);
      const action = form.get('Action');
      await held;
      if (service.failing) return send(500, 'text/xml', stsError('InternalFailure', 'unavailable'));
      if (action === 'AssumeRoleWithWebIdentity') {
        if (form.get('WebIdentityToken') !== options.webIdentityToken) return send(400, 'text/xml', stsError('InvalidIdentityToken', 'unknown token'));
        return send(200, 'text/xml', stsAnswer('AssumeRoleWithWebIdentity', issue('sts-web-identity'), form.get('RoleArn')!));
      }
      if (action === 'AssumeRole') {
        // Signed by the base credentials: the stand-in checks whose they are (AMP's stand-in checks signatures).
        const key = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
        if (key === undefined || key !== options.assumeRoleKey) return send(403, 'text/xml', stsError('AccessDenied', `not allowed: ${key}`));
        return send(200, 'text/xml', stsAnswer('AssumeRole', issue('sts-assume-role'), form.get('RoleArn')!));
      }
      return send(400, 'text/xml', stsError('InvalidAction', String(action)));
    }
    send(404, 'text/plain', 'Not Found');
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      service.requests.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      void handle(req, res, body).catch((e: unknown) => res.writeHead(500).end(String(e)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(service, {
    url,
    ecsUrl: `${url}/ecs/credentials`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

// STS's answers, in the shape its API reference gives (query protocol, XML in the 2011-06-15 namespace).
function stsAnswer(action: 'AssumeRole' | 'AssumeRoleWithWebIdentity', c: IssuedCredentials, roleArn: string): string {
  return `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <${action}Result>
    <AssumedRoleUser><Arn>${roleArn.replace(':role/', ':assumed-role/')}/promgate</Arn><AssumedRoleId>AROATEST:promgate</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${c.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${c.secretAccessKey}</SecretAccessKey>
      <SessionToken>${c.sessionToken}</SessionToken>
      <Expiration>${new Date(c.expiresAt!).toISOString()}</Expiration>
    </Credentials>
  </${action}Result>
  <ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata>
</${action}Response>`;
}

function stsError(code: string, message: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>0</RequestId></ErrorResponse>`;
}

/**
 * The environment of a promgate started by an AWS test: none of this machine's AWS settings (they are taken out
 * of the test's own environment, which the child inherits), a home of its own (no ~/.aws), IMDS off unless a case
 * points it at a stand-in, so that nothing reaches past loopback; then the case's own variables.
 */
export function awsEnv(extra: Record<string, string> = {}): Record<string, string> {
  for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
  return { HOME: mkdtempSync(join(tmpdir(), 'promgate-home-')), AWS_EC2_METADATA_DISABLED: 'true', ...extra };
}
