// Limits shared across replicas: two promgate processes count one tenant's rate and concurrency in one real Redis
// (Debian's redis-server); when Redis dies, fail open keeps answering (counting per process) and fail closed answers
// 503, both without a request hanging; when it is back, counting is shared again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startGateway, type Gateway } from './support/gateway.js';
import { startPrometheus, type PromServer } from './support/prometheus.js';
import { startRedis, type RedisServer } from './support/redis.js';
import { END, tenantData, toOpenMetrics } from './support/tenant-data.js';

const USERS = `users:
  - username: alice
    password: alice-pw
    namespace: tenant-a
  - username: slow
    password: slow-pw
    namespace: tenant-a
    limits:
      rate: 0
      concurrency: 2
      queue: 0
`;
const ALICE = basicAuth('alice', 'alice-pw');
const SLOW = basicAuth('slow', 'slow-pw');
const RATE = 20;
// About 100 ms of Prometheus's CPU: long enough for ten requests sent at once to overlap.
const SLOW_QUERY = 'quantile_over_time(0.9, sum by (pod) (rate(http_requests_total[5m]))[1h:2s])';

async function ask(gateway: Gateway, auth: Record<string, string>, query = 'up'): Promise<{ status: number; ms: number; retryAfter: string | null }> {
  const started = performance.now();
  const res = await fetch(`${gateway.base}/api/v1/query_range`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query, start: String(END - 3600), end: String(END), step: '30' }),
    // A request that hangs fails the test rather than stalling it.
    signal: AbortSignal.timeout(5000),
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get('retry-after') };
}

/** `clients` loops per gateway asking as fast as they are answered, for `ms`: the statuses seen. */
async function hammer(gateways: readonly Gateway[], clients: number, ms: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  const until = performance.now() + ms;
  await Promise.all(
    gateways.flatMap((gateway) =>
      Array.from({ length: clients }, async () => {
        while (performance.now() < until) {
          const { status } = await ask(gateway, ALICE);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    ),
  );
  return statuses;
}

describe('limits shared through Redis', () => {
  let prometheus: PromServer;
  let redis: RedisServer;
  let open: [Gateway, Gateway];
  let closed: Gateway;

  before(async () => {
    [prometheus, redis] = await Promise.all([startPrometheus(toOpenMetrics(tenantData(['tenant-a']))), startRedis()]);
    const args = (fail: string) => ['--limits-redis', redis.url, '--limits-redis-fail', fail, '--limits-rate', String(RATE), '--limits-burst', String(RATE)];
    const started = await Promise.all([
      startGateway({ upstream: prometheus.url, authConfig: USERS, args: args('open') }),
      startGateway({ upstream: prometheus.url, authConfig: USERS, args: args('open') }),
      startGateway({ upstream: prometheus.url, authConfig: USERS, args: args('closed') }),
    ]);
    open = [started[0], started[1]];
    closed = started[2];
  });
  after(async () => {
    await Promise.all([...(open ?? []), closed].map((g) => g?.stop()));
    await Promise.all([redis?.stop(), prometheus?.stop()]);
  });

  it('holds two replicas together to the tenant\'s rate', async () => {
    await new Promise((r) => setTimeout(r, 1000)); // a full bucket to start from
    const seconds = 4;
    const statuses = await hammer(open, 8, seconds * 1000);
    const accepted = statuses.get(200) ?? 0;
    // The bucket's burst, then RATE a second: counted per process, the two would accept twice that.
    const expected = RATE + RATE * seconds;
    assert.ok(Math.abs(accepted - expected) <= expected * 0.2, `accepted ${accepted} of ${JSON.stringify([...statuses])}, expected ${expected} ± 20%`);
    assert.ok((statuses.get(429) ?? 0) > accepted, 'the rest was refused');
  });

  it('holds two replicas together to the tenant\'s concurrency', async () => {
    // Ten slow queries at once, five to each replica; two places and no queue for the tenant across both.
    const answers = await Promise.all(open.flatMap((g) => Array.from({ length: 5 }, () => ask(g, SLOW, SLOW_QUERY))));
    const accepted = answers.filter((a) => a.status === 200).length;
    assert.equal(accepted, 2, JSON.stringify(answers.map((a) => a.status)));
    assert.ok(answers.every((a) => a.status === 200 || (a.status === 429 && a.retryAfter === '1')));
  });

  it('when Redis dies: fail open answers, counting per process; fail closed answers 503; no request hangs', async () => {
    await redis.kill();
    const openAnswers = await Promise.all(Array.from({ length: 30 }, (_, i) => ask(open[i % 2]!, ALICE)));
    const closedAnswers = await Promise.all(Array.from({ length: 10 }, () => ask(closed, ALICE)));
    for (const a of [...openAnswers, ...closedAnswers]) assert.ok(a.ms < 2000, `answered in ${a.ms.toFixed(0)} ms`);
    // Each replica's own bucket of RATE: with 15 requests each, all within it.
    assert.deepEqual(openAnswers.map((a) => a.status), openAnswers.map(() => 200));
    assert.deepEqual(closedAnswers.map((a) => [a.status, a.retryAfter]), closedAnswers.map(() => [503, '1']));
    await closed.logMatching(/limits store \(Redis\) unreachable: failing closed/);
    await open[0].logMatching(/limits store \(Redis\) unreachable: failing open/);
    const metrics = await (await fetch(`${closed.internal}/metrics`)).text();
    assert.match(metrics, /^promgate_limit_store_up 0$/m);
    assert.ok(Number(/^promgate_limit_store_errors_total (\d+)$/m.exec(metrics)?.[1]) >= 10, 'every failed call counted');
    assert.match(metrics, /^promgate_limit_refusals_total\{tenant="alice",reason="store_unreachable"\} 10$/m);
  });

  it('counts in Redis again once it is back', async () => {
    await redis.restart();
    for (let i = 0; i < 50; i++) {
      if ((await ask(closed, ALICE)).status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await ask(closed, ALICE)).status, 200, 'fail closed serves again');
    await closed.logMatching(/limits store \(Redis\) reachable/);
  });
});
