// The tenant limits in one process: the users-file block, the window checks, and the limiter's rate and
// concurrency (its queue, hand-over and time-outs). Shared counting through Redis is tested in test/limits-redis.test.ts.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parseUsersFile } from '../auth/users-file.js';
import { parseGatewayConfig } from '../gateway/load.js';
import { Limiter, type Lease, type LimitRefusal } from './limiter.js';
import { NO_LIMITS, readLimits, withOverrides, type TenantLimits } from './limits.js';
import { createLimitMetrics } from './metrics.js';
import { checkQueryWindow, formatDuration, readTime } from './query-window.js';

const DAY = 86_400_000;
const ALICE = { tenant: 'alice', metricsUser: 'alice' };
const BOB = { tenant: 'bob', metricsUser: 'bob' };

function limiter(defaults: Partial<TenantLimits>): { limiter: Limiter; registry: Registry } {
  const registry = new Registry();
  const made = new Limiter({
    defaults: withOverrides(NO_LIMITS, defaults),
    failure: 'open',
    metrics: createLimitMetrics(registry),
    logger: pino({ level: 'silent' }),
  });
  return { limiter: made, registry };
}

const client = () => new EventEmitter() as EventEmitter & { once(e: 'close', l: () => void): unknown };
const isLease = (x: Lease | LimitRefusal): x is Lease => !('reason' in x);

async function refusals(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('promgate_limit_refusals_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [`${v.labels.tenant}/${v.labels.reason}`, v.value]));
}

describe('limits: block in the users file', () => {
  it('reads every limit, durations and numbers as written', () => {
    const read = readLimits(new Map([['concurrency', '4'], ['queue', '10'], ['queue_timeout', '5s'], ['rate', '2.5'], ['burst', '5'], ['max_range', '7d'], ['max_lookback', '1d'], ['max_points', '500']]));
    assert.deepEqual(read, { ok: true, value: { concurrency: 4, queue: 10, queueTimeoutMs: 5000, rate: 2.5, burst: 5, maxRangeMs: 7 * DAY, maxLookbackMs: DAY, maxPoints: 500 } });
  });

  it('is read from a users entry, and k8spin fields still load beside it', () => {
    const file = parseUsersFile('users:\n  - username: a\n    password: p\n    namespace: x\n    limits:\n      rate: 10\n      max_range: 30d\n', 'u.yaml');
    assert.ok(file.ok, file.ok ? '' : file.error);
    assert.deepEqual(file.value.users[0]!.limits, { rate: 10, maxRangeMs: 30 * DAY });
    assert.deepEqual(file.value.warnings, []);
  });

  for (const [yaml, message] of [
    ['      rate: fast', 'u.yaml:6: users[0].limits.rate: must be a number of requests a second (0: no limit)'],
    ['      max_range: 1 day', 'u.yaml:6: users[0].limits.max_range: must be a duration such as 30s, 12h or 32d (0: no limit)'],
    ['      speed: 1', 'u.yaml:6: users[0].limits.speed: unknown limit; one of concurrency, queue, queue_timeout, rate, burst, max_range, max_lookback, max_points'],
    ['      concurrency: [1]', 'u.yaml:6: users[0].limits.concurrency: must be a number or a duration'],
    ['      __proto__: 1', 'u.yaml:6: users[0].limits.__proto__: unknown limit; one of concurrency, queue, queue_timeout, rate, burst, max_range, max_lookback, max_points'],
  ] as const) {
    it(`refuses ${yaml.trim()}, saying where`, () => {
      const file = parseUsersFile(`users:\n  - username: a\n    password: p\n    namespace: x\n    limits:\n${yaml}\n`, 'u.yaml');
      assert.deepEqual(file, { ok: false, error: message });
    });
  }
});

describe('limits: block of a gateway file\'s tenant', () => {
  const gateway = (limits: string) =>
    parseGatewayConfig(
      `tenants:\n  - username: u\n    password: p\n    id: team-a\n    limits:\n${limits}\ncomponents:\n  prometheus:\n    url: http://127.0.0.1:9090\n` +
        'routes:\n  - path: /prometheus\n    match: prefix\n    component: prometheus\n    enforcement: header\n',
      'gw.yaml',
    );

  it('is read as in a users file', () => {
    const config = gateway('      rate: 5\n      max_range: 7d');
    assert.ok(config.ok, config.ok ? '' : config.error);
    assert.deepEqual(config.value.tenants[0]!.limits, { rate: 5, maxRangeMs: 7 * DAY });
  });

  it('refuses a bad value, saying where', () => {
    assert.deepEqual(gateway('      rate: fast'), { ok: false, error: 'gw.yaml:6: tenants[0].limits.rate: must be a number of requests a second (0: no limit)' });
  });
});

describe('limits: a query window', () => {
  const limits = withOverrides(NO_LIMITS, { maxRangeMs: 32 * DAY, maxLookbackMs: 32 * DAY, maxPoints: 11_000 });
  const range = (start: string, end: string, step: string) => [['query', 'up'], ['start', start], ['end', end], ['step', step]] as [string, string][];

  it('takes what keeps within the limits', () => {
    assert.equal(checkQueryWindow(range('0', String(32 * 86_400), '300'), 31 * DAY, limits, true), undefined);
    assert.equal(checkQueryWindow(range('2026-01-01T00:00:00Z', '2026-01-02T00:00:00.5Z', '15s'), 0, limits, true), undefined);
  });

  it('refuses a range over the limit, naming it', () => {
    assert.deepEqual(checkQueryWindow(range('0', String(90 * 86_400), '3600'), 0, limits, true), {
      reason: 'range',
      message: 'query range too long: 90d (limit 32d)',
    });
  });

  it('refuses more points per series than the limit, as Prometheus counts them', () => {
    assert.equal(checkQueryWindow(range('0', '11000', '1'), 0, limits, true), undefined);
    assert.deepEqual(checkQueryWindow(range('0', '11001', '1'), 0, limits, true), {
      reason: 'points',
      message: 'too many points per series: 11001 (limit 11000); raise the step (?step=) or shorten the range',
    });
    assert.equal(checkQueryWindow(range('0', '11001', '1'), 0, limits, false), undefined, 'an instant query has no points limit');
  });

  it('refuses a lookback over the limit: the measured one, and lookback_delta', () => {
    assert.match(checkQueryWindow([['query', 'x']], 33 * DAY, limits, false)!.message, /^query looks back too far: 33d \(limit 32d\)/);
    assert.match(checkQueryWindow([['query', 'x']], Infinity, limits, false)!.message, /^query looks back too far: a duration set by step\(\) or range\(\)/);
    assert.deepEqual(checkQueryWindow([['query', 'x'], ['lookback_delta', '60d']], 0, limits, false), {
      reason: 'lookback',
      message: 'query looks back too far: lookback_delta 60d (limit 32d)',
    });
  });

  it('refuses a value it needs and cannot read, rather than let it through unchecked', () => {
    assert.deepEqual(checkQueryWindow(range('0x10', '100', '1'), 0, limits, true), {
      reason: 'unreadable',
      message: 'invalid parameter "start": cannot parse "0x10" to a valid timestamp',
    });
    assert.equal(checkQueryWindow(range('0x10', '100', '1'), 0, NO_LIMITS, true), undefined, 'no limit, nothing to read');
  });

  it('reads Prometheus times and writes Prometheus durations', () => {
    assert.equal(readTime('1.5'), 1500);
    assert.equal(readTime('2026-01-01T00:00:00+01:00'), Date.parse('2025-12-31T23:00:00Z'));
    assert.equal(readTime('292277025-08-18T07:12:54.999999999Z'), Infinity);
    assert.equal(readTime('tomorrow'), undefined);
    assert.equal(formatDuration(90 * 60_000), '1h30m');
    assert.equal(formatDuration(366 * DAY), '1y1d');
  });
});

describe('limits: rate', () => {
  it('takes a burst, then refuses with the seconds until the next token', async () => {
    const { limiter: l, registry } = limiter({ rate: 2, burst: 3 });
    const limits = l.limitsOf(undefined);
    for (let i = 0; i < 3; i++) assert.equal(l.admit(ALICE, limits), undefined);
    const refused = l.admit(ALICE, limits) as LimitRefusal;
    assert.equal(refused.status, 429);
    assert.equal(refused.retryAfterSeconds, 1);
    assert.match(refused.message, /^too many requests: over this tenant's rate of 2 a second/);
    assert.equal(l.admit(BOB, limits), undefined, 'another tenant has its own bucket');
    assert.deepEqual(await refusals(registry), { 'alice/rate': 1 });
  });

  it('applies a tenant\'s own limits over the defaults', () => {
    const { limiter: l } = limiter({ rate: 100 });
    const own = { rate: 1, burst: 1 };
    assert.equal(l.limitsOf(own), l.limitsOf(own), 'resolved once');
    assert.equal(l.admit(ALICE, l.limitsOf(own)), undefined);
    assert.notEqual(l.admit(ALICE, l.limitsOf(own)), undefined);
  });
});

describe('limits: concurrency', () => {
  it('gives places at once, then queues, handing a freed place to the longest waiting', async () => {
    const { limiter: l } = limiter({ concurrency: 2, queue: 2, queueTimeoutMs: 5000 });
    const limits = l.limitsOf(undefined);
    const first = l.acquire(ALICE, limits, client()) as Lease;
    const second = l.acquire(ALICE, limits, client()) as Lease;
    assert.ok(isLease(first) && isLease(second), 'the first two without waiting (no promise)');
    const third = l.acquire(ALICE, limits, client()) as Promise<Lease | LimitRefusal>;
    const fourth = l.acquire(ALICE, limits, client()) as Promise<Lease | LimitRefusal>;
    assert.ok(third instanceof Promise && fourth instanceof Promise);
    const order: string[] = [];
    void third.then(() => order.push('third'));
    void fourth.then(() => order.push('fourth'));
    const full = l.acquire(ALICE, limits, client()) as LimitRefusal;
    assert.equal(full.reason, 'queue_full');
    assert.equal(full.retryAfterSeconds, 1);
    assert.ok(isLease(l.acquire(BOB, limits, client()) as Lease), 'another tenant is not held up');
    first.release();
    first.release(); // a second release gives nothing back twice
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['third']);
    second.release();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['third', 'fourth']);
  });

  it('refuses after the queue time-out, and forgets a waiter whose client went away', async () => {
    const { limiter: l, registry } = limiter({ concurrency: 1, queue: 5, queueTimeoutMs: 50 });
    const limits = l.limitsOf(undefined);
    const held = l.acquire(ALICE, limits, client()) as Lease;
    const timedOut = (await l.acquire(ALICE, limits, client())) as LimitRefusal;
    assert.equal(timedOut.reason, 'queue_timeout');
    const leaving = client();
    const gone = l.acquire(ALICE, limits, leaving) as Promise<Lease | LimitRefusal>;
    leaving.emit('close');
    assert.equal(((await gone) as LimitRefusal).message, 'the client went away');
    const waiting = l.acquire(ALICE, limits, client()) as Promise<Lease | LimitRefusal>;
    held.release();
    assert.ok(isLease(await waiting), 'the place went to the waiter still there');
    assert.deepEqual(await refusals(registry), { 'alice/queue_timeout': 1 });
  });

  it('costs nothing with no limit: one shared lease, no promise', () => {
    const { limiter: l } = limiter({});
    const lease = l.acquire(ALICE, l.limitsOf(undefined), client());
    assert.ok(!(lease instanceof Promise) && isLease(lease));
    assert.equal(l.admit(ALICE, l.limitsOf(undefined)), undefined);
  });
});
