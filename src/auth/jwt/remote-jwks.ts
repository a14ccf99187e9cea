import jwksRsa from 'jwks-rsa';
import type { Deps } from '../../observability/deps.js';
import { err, ok, type Result } from '../../result.js';
import { logJwks } from './file-key-source.js';
import { parseJwks } from './jwks.js';
import type { KeySource, VerificationKey } from './keys.js';
import type { JwtMetrics } from './metrics.js';

export interface RemoteJwksOptions {
  readonly url: string;
  /** 0 turns the periodic refresh off; an unknown `kid` still triggers one. */
  readonly refreshIntervalMs: number;
  /** The least time between two fetches caused by unknown `kid`s, so forged tokens cannot hammer the identity provider. */
  readonly minRefreshGapMs?: number;
  readonly timeoutMs?: number;
}

const MIN_REFRESH_GAP_MS = 10_000;
const TIMEOUT_MS = 5_000;

/**
 * A JWKS served over HTTP(S), fetched by jwks-rsa (timeouts, request headers, endpoint errors).
 * We keep the whole key set ourselves rather than use its per-kid signing-key cache: that cache drops `oct`
 * keys (k8spin's JWKS has one) and forgets keys after its max age, where we want the last good set to stay.
 * The first fetch must succeed; later failures keep the last good keys, are logged and counted.
 */
export async function remoteJwksSource(opts: RemoteJwksOptions, deps: Deps, metrics: JwtMetrics): Promise<Result<KeySource, string>> {
  const source = new RemoteJwks(opts, deps, metrics);
  const first = await source.fetch();
  if (first !== undefined) return err(`JWKS ${opts.url}: ${first}`);
  source.start();
  return ok(source);
}

class RemoteJwks implements KeySource {
  private current: readonly VerificationKey[] = [];
  private currentText = '';
  private inflight: Promise<void> | undefined;
  private lastAttemptMs = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly client: jwksRsa.JwksClient;
  private readonly minGapMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: RemoteJwksOptions, private readonly deps: Deps, private readonly metrics: JwtMetrics) {
    this.minGapMs = opts.minRefreshGapMs ?? MIN_REFRESH_GAP_MS;
    this.timeoutMs = opts.timeoutMs ?? TIMEOUT_MS;
    this.client = new jwksRsa.JwksClient({
      jwksUri: opts.url,
      timeout: this.timeoutMs,
      requestHeaders: { Accept: 'application/json', 'User-Agent': 'promgate' },
    });
  }

  keys(): readonly VerificationKey[] {
    return this.current;
  }

  start(): void {
    if (this.opts.refreshIntervalMs > 0) {
      // setInterval fires at once beyond 2^31-1 ms, which would hammer the identity provider.
      this.timer = setInterval(() => void this.refresh(), Math.min(this.opts.refreshIntervalMs, 2 ** 31 - 1));
      this.timer.unref();
    }
  }

  refreshForUnknownKid(): Promise<void> {
    if (this.inflight === undefined && Date.now() - this.lastAttemptMs < this.minGapMs) return Promise.resolve();
    return this.refresh();
  }

  /** One fetch at a time; callers arriving meanwhile wait for it. Never rejects. */
  private refresh(): Promise<void> {
    this.inflight ??= this.fetch().then(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Fetches and installs the key set; says why not when it fails (the last good set stays). */
  async fetch(): Promise<string | undefined> {
    this.lastAttemptMs = Date.now();
    const problem = await this.fetchAndInstall().catch(describe);
    if (problem === undefined) {
      this.metrics.jwksLastRefreshSuccess.setToCurrentTime();
      this.metrics.jwksKeys.set(this.current.length);
      return undefined;
    }
    this.metrics.jwksRefreshFailures.inc();
    this.deps.logger.warn({ jwks: this.opts.url, err: problem }, 'JWKS refresh failed; the last good keys stay in use');
    return problem;
  }

  private async fetchAndInstall(): Promise<string | undefined> {
    const raw = await withDeadline(this.client.getKeys(), this.timeoutMs);
    const text = JSON.stringify(raw);
    // An unchanged set keeps its identity, so tokens already verified stay cached.
    if (text === this.currentText) return undefined;
    const parsed = parseJwks({ keys: raw }, this.opts.url);
    if (!parsed.ok) return parsed.error;
    logJwks(parsed.value.keys, parsed.value.skipped, this.opts.url, this.deps);
    this.current = parsed.value.keys;
    this.currentText = text;
    return undefined;
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.inflight;
  }
}

// Connection errors may carry only a code (an AggregateError from happy eyeballs has no message).
function describe(e: unknown): string {
  const { message, code } = (e ?? {}) as { message?: unknown; code?: unknown };
  return [message, code].filter((part) => typeof part === 'string' && part !== '').join(' ') || String(e);
}

// jwks-rsa's timeout is the socket's idle time; a server that trickles bytes is cut off here.
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
