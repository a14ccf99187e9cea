import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createJwtAuthenticator } from '../../src/auth/jwt/index.js';
import type { Authenticator, AuthOutcome } from '../../src/auth/types.js';
import type { JwtOptions } from '../../src/auth/jwt/options.js';
import type { RunOptions } from '../../src/config/run-options.js';
import { viewOf } from '../support/request-view.js';
import type { Deps } from '../../src/observability/deps.js';

export function testDeps(): Deps {
  return { logger: pino({ level: 'silent' }), registry: new Registry() };
}

/** RunOptions for `--auth-type jwt`, with the defaults of `promgate run`. */
export function jwtOptions(overrides: { authConfig?: string; reloadIntervalMinutes?: number; jwt?: Partial<JwtOptions> } = {}): RunOptions {
  return {
    port: 0,
    prometheusEndpoint: new URL('http://127.0.0.1:9090'),
    reloadIntervalMinutes: overrides.reloadIntervalMinutes ?? 0,
    unprotectedEndpoints: [],
    authTypes: ['jwt'],
    mtlsIdentity: 'cn',
    authConfig: overrides.authConfig ?? '',
    namespaceLabel: 'namespace',
    internalPort: 0,
    upstreamTimeoutMs: 1000,
    maxBodySize: 1024,
    enforceCacheSize: 1024 * 1024,
    enforce: 'labels',
    logLevel: 'error',
    jwt: {
      requireExp: false,
      leewaySeconds: 60,
      namespacesClaim: 'namespaces',
      labelsClaim: 'labels',
      tenantClaim: 'tenant_id',
      metricsUser: 'tenant',
      ...overrides.jwt,
    },
  };
}

export async function authenticator(options: RunOptions, deps: Deps = testDeps()): Promise<Authenticator> {
  const created = await createJwtAuthenticator(options, deps);
  if (!created.ok) throw new Error(created.error);
  return created.value;
}

/** Authenticates a request carrying these headers (names in lower case). */
export function authenticate(auth: Authenticator, headers: Record<string, string>): Promise<AuthOutcome> {
  return Promise.resolve(auth.authenticate(viewOf(headers)));
}

export function bearer(auth: Authenticator, token: string): Promise<AuthOutcome> {
  return authenticate(auth, { authorization: `Bearer ${token}` });
}

export function rsaKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

export const b64u = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** A compact JWT from raw parts, for tokens no library would mint. */
export function rawToken(header: object, payload: object, signature = ''): string {
  return `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}.${signature}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
