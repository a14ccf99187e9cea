import type { JWTPayload } from 'jose';
import type { Deps } from '../../observability/deps.js';
import { err, ok, type Result } from '../../result.js';
import { principalOf } from '../grant.js';
import type { Authenticator, AuthOutcome, RequestView } from '../types.js';
import { readGrant, type ClaimNames } from './claims.js';
import { extractToken, sentCredentials } from './extract-token.js';
import { jwksFileSource, publicKeyFileSource } from './file-key-source.js';
import { secretKey } from './flag-keys.js';
import { KeyRing } from './keyring.js';
import { fixedKeySource, type KeySource } from './keys.js';
import { jwtMetrics, type AuthResult, type JwtMetrics } from './metrics.js';
import { remoteJwksSource } from './remote-jwks.js';
import { VerificationCache } from './verification-cache.js';
import type { JwtAuthOptions, JwtOptions } from './options.js';
import { verifyToken, type VerifyOptions } from './verify.js';

/** Tokens longer than this are refused before any parsing (identity providers' tokens are a few KiB at most). */
export const MAX_TOKEN_LENGTH = 16 * 1024;
const CACHE_ENTRIES = 10_000;
// Most decisions take a few hundred bytes; a token granting thousands of namespaces takes far more.
const CACHE_BYTES = 32 * 1024 ** 2;
// A token without `exp` is re-verified now and then all the same.
const CACHE_MAX_AGE_MS = 5 * 60_000;

/**
 * JWT authentication: k8spin's JWKS (file or URL), cortex-gateway's shared secret, Opstrace's PEM public key,
 * in any combination. Verified tokens are cached until they expire or the keys change.
 */
export async function createJwtAuthenticator(opts: JwtAuthOptions, deps: Deps): Promise<Result<Authenticator, string>> {
  const metrics = jwtMetrics(deps.registry);
  const sources = await keySources(opts, deps, metrics);
  if (!sources.ok) return sources;
  const ring = new KeyRing(sources.value);
  const names: ClaimNames = { namespaces: opts.jwt.namespacesClaim, labels: opts.jwt.labelsClaim, tenant: opts.jwt.tenantClaim };
  const verifyOptions: VerifyOptions = {
    requireExp: opts.jwt.requireExp,
    leewaySeconds: opts.jwt.leewaySeconds,
    ...(opts.jwt.issuer !== undefined && { issuer: opts.jwt.issuer }),
    ...(opts.jwt.audience !== undefined && { audience: opts.jwt.audience }),
  };
  return ok(new JwtAuthenticator(ring, names, verifyOptions, opts.namespaceLabel, opts.jwt.metricsUser, metrics));
}

async function keySources(opts: JwtAuthOptions, deps: Deps, metrics: JwtMetrics): Promise<Result<KeySource[], string>> {
  const sources: KeySource[] = [];
  const fail = async (message: string): Promise<Result<never, string>> => {
    await Promise.all(sources.map((s) => s.close()));
    return err(message);
  };

  const { secret, publicKeyFile } = opts.jwt;
  if (secret !== undefined) {
    const key = secretKey(secret);
    if (!key.ok) return fail(key.error);
    sources.push(fixedKeySource([key.value]));
  }
  if (publicKeyFile !== undefined) {
    const source = await publicKeyFileSource(publicKeyFile, opts.reloadIntervalMinutes, deps);
    if (!source.ok) return fail(`--jwt-public-key: ${source.error}`);
    sources.push(source.value);
  }
  // '' when only --jwt-secret or --jwt-public-key was given.
  const location = opts.authConfig.trim();
  if (location !== '') {
    const source = /^https?:\/\//i.test(location)
      ? await remoteJwksSource({ url: location, refreshIntervalMs: opts.reloadIntervalMinutes * 60_000 }, deps, metrics)
      : await jwksFileSource(location, opts.reloadIntervalMinutes, deps);
    if (!source.ok) return fail(`--auth-config: ${source.error}`);
    sources.push(source.value);
  }
  if (sources.length === 0) {
    return fail('--auth-type jwt needs keys: --auth-config (a JWKS file or http(s) URL), --jwt-secret or --jwt-public-key');
  }
  return ok(sources);
}

interface Decision {
  readonly outcome: AuthOutcome;
  readonly result: AuthResult;
}

class JwtAuthenticator implements Authenticator {
  private readonly cache = new VerificationCache<Decision>(CACHE_ENTRIES, CACHE_BYTES, decisionBytes);

  constructor(
    private readonly ring: KeyRing,
    private readonly names: ClaimNames,
    private readonly verifyOptions: VerifyOptions,
    private readonly namespaceLabel: string,
    private readonly metricsUser: JwtOptions['metricsUser'],
    private readonly metrics: JwtMetrics,
  ) {}

  authenticate(request: RequestView): AuthOutcome | Promise<AuthOutcome> {
    const token = extractToken(request);
    if (token === undefined) {
      const outcome: AuthOutcome = sentCredentials(request)
        ? { ok: false, status: 401, absent: true, reason: 'no bearer token (Authorization: Bearer <token> or Token: <token>)' }
        : { ok: false, status: 401, absent: true, reason: 'no credentials', challenge: 'Bearer realm="promgate"' };
      return this.count('missing', outcome);
    }
    if (token.length > MAX_TOKEN_LENGTH) {
      return this.count('too_large', { ok: false, status: 401, reason: `token longer than ${MAX_TOKEN_LENGTH} bytes` });
    }
    const key = VerificationCache.keyOf(token);
    const cached = this.cache.get(key, this.ring.snapshot(), Date.now());
    if (cached !== undefined) return this.count(cached.outcome.ok ? 'cached' : cached.result, cached.outcome);
    return this.verify(token, key);
  }

  private async verify(token: string, cacheKey: string): Promise<AuthOutcome> {
    const verified = await verifyToken(token, this.ring, this.verifyOptions);
    if (!verified.ok) return this.count(verified.error.result, { ok: false, status: 401, reason: verified.error.reason });

    const { payload, keys } = verified.value;
    const decision = this.decide(payload);
    // Only what follows a good signature is cached, and never past `exp`.
    const now = Date.now();
    const expiresAtMs = typeof payload.exp === 'number' ? Math.min(payload.exp * 1000, now + CACHE_MAX_AGE_MS) : now + CACHE_MAX_AGE_MS;
    this.cache.set(cacheKey, keys, decision, expiresAtMs, now);
    return this.count(decision.result, decision.outcome);
  }

  private decide(payload: JWTPayload): Decision {
    const grant = readGrant(payload, this.names);
    if (!grant.ok) return { result: 'bad_claims', outcome: { ok: false, status: 401, reason: grant.error } };
    const { tenantId } = grant.value;
    const principal = principalOf(subjectOf(payload) ?? tenantId ?? 'jwt', this.metricsUserOf(payload, tenantId), grant.value, this.namespaceLabel);
    if (principal === undefined) {
      const reason = `token grants no namespace, label or tenant id (claims "${this.names.namespaces}", "${this.names.labels}", "${this.names.tenant}")`;
      return { result: 'no_grant', outcome: { ok: false, status: 403, reason } };
    }
    return { result: 'verified', outcome: { ok: true, principal } };
  }

  private metricsUserOf(payload: JWTPayload, tenantId: string | undefined): string {
    return (this.metricsUser === 'subject' ? subjectOf(payload) : tenantId) ?? 'jwt';
  }

  private count(result: AuthResult, outcome: AuthOutcome): AuthOutcome {
    this.metrics.authentications.inc({ result });
    return outcome;
  }

  close(): Promise<void> {
    return this.ring.close();
  }
}

// k8spin's and cortex-gateway's tokens carry no subject.
function subjectOf(payload: JWTPayload): string | undefined {
  return typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub.slice(0, 128) : undefined;
}

/** About the bytes a decision holds: its principal's grant and matchers, as text, two bytes a character. */
function decisionBytes(decision: Decision): number {
  const { outcome } = decision;
  return 2 * (outcome.ok ? JSON.stringify(outcome.principal).length : outcome.reason.length) + 64;
}
