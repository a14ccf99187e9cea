import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { Gauge } from 'prom-client';
import type { Dispatcher } from 'undici';
import type { Deps } from '../observability/deps.js';
import { registered } from '../observability/metrics.js';
import { UpstreamTimeout } from './failure.js';
import { swappable, type SwappableUpstream } from './swappable.js';
import { createUpstream, failBeforeSending, type Upstream, type UpstreamConfig, type UpstreamRequest, type UpstreamTls } from './upstream.js';

export interface BalancedConfig {
  /** The component's name, for logs and metrics. */
  readonly name: string;
  /** Everything of each address's upstream but the address itself: its URL names the host. */
  readonly upstream: UpstreamConfig;
  /** How often the host is resolved again. */
  readonly refreshMs: number;
  /** `host:port` of the DNS server to ask; unset: the system's resolver (hosts file included). */
  readonly dnsServer?: string;
  /** The whole exchange, answer included: past it the request is cut (504 when the answer had not begun). */
  readonly totalTimeoutMs: number;
  /** The longest a request body may take to go up; unset: the whole exchange's bound. */
  readonly writeTimeoutMs?: number;
}

export interface BalancedUpstream extends Upstream {
  /** The addresses in use, for logs and tests. */
  addresses(): readonly string[];
  /** Resolves the host again now. */
  refresh(): Promise<void>;
  /** New TLS settings (rotated files): every address gets a new pool, the old ones finishing their requests. */
  useTls(tls: UpstreamTls): void;
}

/** One address of the host, with its own keep-alive pool, and how it has fared. */
interface Address {
  readonly address: string;
  readonly upstream: SwappableUpstream;
  /** Consecutive connection failures; while `downUntil` is ahead, the address is set aside. */
  failures: number;
  downUntil: number;
}

// An address whose connection failed is set aside for 0.5 s, then twice as long at each failure in a row, 30 s at most.
const BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
// Errors that mean the request never reached the upstream's application: a read is safe to send again elsewhere.
const NOT_DELIVERED = new Set([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
const READS = new Set(['GET', 'HEAD']);

const codeOf = (error: unknown): string | undefined => {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined) return code;
  }
  return undefined;
};

/**
 * A component reached over every address its hostname resolves to: resolved again every `refreshMs`, requests
 * round-robin over the addresses, each with its own keep-alive pool, the Host header still the component's name.
 * An address whose connection fails is set aside with a back-off. A read that never reached its address (the
 * connection could not be made, or broke before any answer) is sent once more, to another address; a request with
 * a body (a push) is never replayed.
 */
export async function createBalancedUpstream(config: BalancedConfig, deps: Deps): Promise<BalancedUpstream> {
  const { name, upstream: base } = config;
  const logger = deps.logger.child({ component: name });
  const health = registered(deps.registry, 'promgate_upstream_address_up', (registers) => new Gauge({
    name: 'promgate_upstream_address_up',
    help: "Each resolved address of a component: 1 while it is used, 0 while set aside after a failed connection.",
    labelNames: ['component', 'address'] as const,
    registers,
  }));
  const host = base.url.hostname;
  const resolver = config.dnsServer === undefined ? undefined : new Resolver();
  resolver?.setServers([config.dnsServer!]);
  let addresses: Address[] = [];
  let next = 0;
  let closed = false;

  let tls = base.tls;
  const pool = (address: string): Upstream => {
    const url = new URL(base.url.href);
    url.hostname = isIP(address) === 6 ? `[${address}]` : address;
    // The URL names an address now: the certificate is checked against the component's host name (SNI too).
    const named = tls === undefined ? {} : { tls: { serverName: host.replace(/^\[|\]$/g, ''), ...tls } };
    return createUpstream({ ...base, url, host: base.url.host, ...named });
  };
  const addressUpstream = (address: string): SwappableUpstream => swappable(pool(address));

  const resolve = async (): Promise<string[]> => {
    const bare = host.replace(/^\[|\]$/g, '');
    if (isIP(bare) !== 0) return [bare];
    if (resolver === undefined) return (await lookup(host, { all: true })).map((a) => a.address);
    const families = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const found = families.flatMap((f) => (f.status === 'fulfilled' ? f.value : []));
    if (found.length === 0) throw (families[0] as PromiseRejectedResult).reason;
    return found;
  };

  const refresh = async (): Promise<void> => {
    let resolved: string[];
    try {
      resolved = [...new Set(await resolve())].sort();
    } catch (error) {
      logger.warn({ err: error, host }, `cannot resolve ${host}: still using ${addresses.map((a) => a.address).join(', ') || 'no address'}`);
      return;
    }
    if (closed || resolved.join() === addresses.map((a) => a.address).join()) return;
    const kept = new Map(addresses.map((a) => [a.address, a]));
    const updated = resolved.map((address) => kept.get(address) ?? { address, upstream: addressUpstream(address), failures: 0, downUntil: 0 });
    for (const gone of addresses.filter((a) => !resolved.includes(a.address))) {
      health.remove({ component: name, address: gone.address });
      // undici's close lets the requests already sent finish.
      void gone.upstream.close().catch(() => undefined);
    }
    for (const a of updated) health.set({ component: name, address: a.address }, a.downUntil > Date.now() ? 0 : 1);
    addresses = updated;
    logger.info({ host, addresses: resolved }, `${name}: ${host} resolves to ${resolved.join(', ')}`);
  };

  /** The next address in turn that is not set aside (any, when all are), other than `not`. */
  const pick = (not?: Address): Address | undefined => {
    const now = Date.now();
    const candidates = addresses.filter((a) => a !== not);
    const healthy = candidates.filter((a) => a.downUntil <= now);
    const from = healthy.length > 0 ? healthy : candidates;
    if (from.length === 0) return undefined;
    next = (next + 1) % 2 ** 31;
    return from[next % from.length];
  };

  const failed = (address: Address, error: unknown): void => {
    if (!CONNECT_FAILURES.has(codeOf(error) ?? '')) return;
    address.failures++;
    address.downUntil = Date.now() + Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** (address.failures - 1));
    health.set({ component: name, address: address.address }, 0);
    logger.warn({ address: address.address, failures: address.failures, err: error }, `${name}: ${address.address} set aside`);
  };

  const answered = (address: Address): void => {
    if (address.failures === 0 && address.downUntil === 0) return;
    address.failures = 0;
    address.downUntil = 0;
    health.set({ component: name, address: address.address }, 1);
  };

  const replayable = (req: UpstreamRequest, error: unknown): boolean => READS.has(req.method) && req.body === undefined && NOT_DELIVERED.has(codeOf(error) ?? '');

  const dispatch = (req: UpstreamRequest, handler: Dispatcher.DispatchHandler): void => {
    const first = pick();
    if (first === undefined) return noAddress(handler, host);
    const bounded = new Bounded(handler, config.totalTimeoutMs, config.writeTimeoutMs, req.body);
    const attempt = (address: Address, retried: boolean): void => {
      address.upstream.dispatch(req, bounded.through(address, {
        answered,
        failed(error) {
          failed(address, error);
          const other = retried || !replayable(req, error) ? undefined : pick(address);
          if (other === undefined) return false;
          logger.debug({ from: address.address, to: other.address, err: error }, `${name}: read sent again to another address`);
          attempt(other, true);
          return true;
        },
      }));
    };
    attempt(first, false);
  };

  const request = async (req: UpstreamRequest): Promise<Dispatcher.ResponseData> => {
    const first = pick();
    if (first === undefined) throw new Error(`${host} resolves to no address`);
    try {
      const answer = await first.upstream.request(req);
      answered(first);
      return answer;
    } catch (error) {
      failed(first, error);
      const other = replayable(req, error) ? pick(first) : undefined;
      if (other === undefined) throw error;
      return other.upstream.request(req);
    }
  };

  await refresh();
  const timer = setInterval(() => void refresh(), config.refreshMs);
  timer.unref();
  return {
    dispatch,
    request,
    refresh,
    addresses: () => addresses.map((a) => a.address),
    useTls(next) {
      tls = next;
      for (const a of addresses) a.upstream.replace(pool(a.address));
    },
    close: async () => {
      closed = true;
      clearInterval(timer);
      await Promise.all(addresses.map((a) => a.upstream.close()));
    },
  };
}

interface Outcome {
  answered(address: Address): void;
  /** True when the request was sent again elsewhere: the error is then not the caller's to see. */
  failed(error: unknown): boolean;
}

/**
 * A request's handler, bounded by the component's whole-exchange and write timeouts and told of each attempt's
 * outcome. What the caller's handler sees is one request, however many addresses it took.
 */
class Bounded {
  private controller: Dispatcher.DispatchController | undefined;
  private timedOut: UpstreamTimeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    totalMs: number,
    writeMs: number | undefined,
    body: string | Readable | undefined,
  ) {
    this.timers.push(setTimeout(() => this.expire(new UpstreamTimeout(`no complete answer within ${totalMs} ms`)), totalMs));
    if (writeMs !== undefined && body !== undefined && typeof body !== 'string') {
      const writing = setTimeout(() => this.expire(new UpstreamTimeout(`the request body was not sent within ${writeMs} ms`)), writeMs);
      body.once('end', () => clearTimeout(writing));
      this.timers.push(writing);
    }
  }

  private expire(error: UpstreamTimeout): void {
    this.timedOut = error;
    this.controller?.abort(error);
  }

  private done(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  through(address: Address, outcome: Outcome): Dispatcher.DispatchHandler {
    let started = false;
    return {
      onRequestStart: (controller, context) => {
        this.controller = controller;
        if (this.timedOut !== undefined) controller.abort(this.timedOut);
        this.inner.onRequestStart?.(controller, context);
      },
      onResponseStart: (controller, status, headers, message) => {
        started = true;
        outcome.answered(address);
        this.inner.onResponseStart?.(controller, status, headers, message);
      },
      onResponseData: (controller, chunk) => this.inner.onResponseData?.(controller, chunk),
      onResponseEnd: (controller, trailers) => {
        this.done();
        this.inner.onResponseEnd?.(controller, trailers);
      },
      onResponseError: (controller, error) => {
        if (!started && this.timedOut === undefined && outcome.failed(error)) return;
        this.done();
        this.inner.onResponseError?.(controller, this.timedOut ?? error);
      },
    };
  }
}

/** No address to send to: the caller's handler fails as for an upstream that cannot be reached (502). */
function noAddress(handler: Dispatcher.DispatchHandler, host: string): void {
  failBeforeSending(handler, Object.assign(new Error(`${host} resolves to no address`), { code: 'ENOTFOUND' }));
}
