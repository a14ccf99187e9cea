// The credential cache on a fake clock: cached, refreshed in the background before expiry, one fetch at a time,
// requests never waiting on a refresh while the cached credentials are valid, the last good ones kept through
// failures, and a clear refusal once none are valid.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { cachedCredentials, CredentialsUnavailable, type CacheEvents } from './credential-cache.js';
import type { AwsCredentials } from './credentials.js';

const HOUR = 3_600_000;

/** A fetch the test answers by hand, one pending call at a time. */
function scriptedFetch() {
  const calls: { forceRefresh: boolean; resolve(c: AwsCredentials): void; reject(e: Error): void }[] = [];
  const fetch = (options: { forceRefresh: boolean }) =>
    new Promise<AwsCredentials>((resolve, reject) => calls.push({ forceRefresh: options.forceRefresh, resolve, reject }));
  return { fetch, calls };
}

describe('cachedCredentials', () => {
  let clock: number;
  const now = () => clock;
  const credentials = (key: string, lifetimeMs?: number): AwsCredentials => ({
    accessKeyId: key,
    secretAccessKey: `${key}-secret`,
    ...(lifetimeMs !== undefined && { expiration: new Date(clock + lifetimeMs) }),
  });
  const advance = async (ms: number): Promise<void> => {
    clock += ms;
    mock.timers.tick(ms);
    await new Promise((r) => setImmediate(r));
  };
  const recorded = () => {
    const seen = { refreshed: [] as string[], failed: [] as string[], kept: [] as (string | undefined)[] };
    const events: CacheEvents = {
      refreshed: (c) => void seen.refreshed.push(c.accessKeyId),
      failed: (e, kept) => {
        seen.failed.push(e.message);
        seen.kept.push(kept?.accessKeyId);
      },
    };
    return { seen, events };
  };

  beforeEach(() => {
    clock = Date.UTC(2026, 0, 1);
    mock.timers.enable({ apis: ['setTimeout'] });
  });
  afterEach(() => mock.timers.reset());

  it('fetches once and serves the cached credentials after', async () => {
    const { fetch, calls } = scriptedFetch();
    const cache = cachedCredentials(fetch, recorded().events, now);
    const started = cache.start();
    calls[0]!.resolve(credentials('A', HOUR));
    assert.equal((await started).accessKeyId, 'A');
    for (let i = 0; i < 5; i++) assert.equal((await cache.get()).accessKeyId, 'A');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.forceRefresh, false);
    cache.close();
  });

  it('refreshes five minutes before expiry, in the background: requests meanwhile get the cached ones at once', async () => {
    const { fetch, calls } = scriptedFetch();
    const { seen, events } = recorded();
    const cache = cachedCredentials(fetch, events, now);
    const started = cache.start();
    calls[0]!.resolve(credentials('A', HOUR));
    await started;
    await advance(HOUR - 5 * 60_000 - 1);
    assert.equal(calls.length, 1, 'not yet');
    await advance(1);
    assert.equal(calls.length, 2, 'the refresh has started');
    assert.equal(calls[1]!.forceRefresh, true, 'past the SDK’s own cache');
    // The refresh is under way and unanswered: every request is signed with the cached credentials, now.
    const during = await Promise.all(Array.from({ length: 10 }, () => cache.get()));
    assert.deepEqual(new Set(during.map((c) => c.accessKeyId)), new Set(['A']));
    assert.equal(calls.length, 2, 'no second refresh');
    calls[1]!.resolve(credentials('B', HOUR));
    await advance(0);
    assert.equal((await cache.get()).accessKeyId, 'B');
    assert.deepEqual(seen.refreshed, ['A', 'B']);
    cache.close();
  });

  it('refreshes short-lived credentials at half their life, and stops using them a quarter before expiry', async () => {
    const { fetch, calls } = scriptedFetch();
    const cache = cachedCredentials(fetch, recorded().events, now);
    const started = cache.start();
    calls[0]!.resolve(credentials('A', 8000));
    await started;
    await advance(3999);
    assert.equal(calls.length, 1);
    await advance(1);
    assert.equal(calls.length, 2);
    // Unanswered until past 6 s (8 s less a quarter): a request then waits on the refresh under way, no new one.
    await advance(2000);
    let answered: string | undefined;
    const waiting = cache.get().then((c) => (answered = c.accessKeyId));
    await advance(0);
    assert.equal(answered, undefined);
    assert.equal(calls.length, 2);
    calls[1]!.resolve(credentials('B', 8000));
    await waiting;
    assert.equal(answered, 'B');
    cache.close();
  });

  it('requests that find none valid share the one fetch under way', async () => {
    const { fetch, calls } = scriptedFetch();
    const cache = cachedCredentials(fetch, recorded().events, now);
    const all = Promise.all(Array.from({ length: 20 }, () => cache.get()));
    assert.equal(calls.length, 1);
    calls[0]!.resolve(credentials('A', HOUR));
    assert.deepEqual(new Set((await all).map((c) => c.accessKeyId)), new Set(['A']));
    cache.close();
  });

  it('keeps the last good credentials through failed refreshes, retried with a back-off, then refuses with the reason', async () => {
    const { fetch, calls } = scriptedFetch();
    const { seen, events } = recorded();
    const cache = cachedCredentials(fetch, events, now);
    const started = cache.start();
    calls[0]!.resolve(credentials('A', 20 * 60_000));
    await started;
    await advance(15 * 60_000);
    assert.equal(calls.length, 2);
    calls[1]!.reject(new Error('connect ECONNREFUSED 169.254.170.2:80'));
    await advance(0);
    assert.deepEqual(seen.failed, ['connect ECONNREFUSED 169.254.170.2:80']);
    assert.deepEqual(seen.kept, ['A']);
    assert.equal((await cache.get()).accessKeyId, 'A', 'the last good ones, still valid');
    // Tried again after 1 s, then 2 s.
    await advance(999);
    assert.equal(calls.length, 2);
    await advance(1);
    assert.equal(calls.length, 3);
    calls[2]!.reject(new Error('still down'));
    await advance(0);
    await advance(2000);
    assert.equal(calls.length, 4);
    calls[3]!.reject(new Error('still down'));
    await advance(0);
    // Every retry fails until past their expiry (less the margin)...
    const expiry = Date.UTC(2026, 0, 1) + 20 * 60_000;
    while (clock < expiry - 10_000) {
      await advance(1000);
      if (calls.length > 4 && seen.failed.length < calls.length - 1) {
        calls.at(-1)!.reject(new Error('still down'));
        await advance(0);
      }
    }
    // ...then requests are refused at once, with the reason, without asking the service each time.
    const asked = calls.length;
    const refusals = await Promise.allSettled(Array.from({ length: 5 }, () => cache.get()));
    assert.ok(refusals.every((r) => r.status === 'rejected' && r.reason instanceof CredentialsUnavailable));
    assert.equal((refusals[0] as PromiseRejectedResult).reason.message, 'no valid AWS credentials (the last ones have expired): still down');
    assert.equal(calls.length, asked);
    // The next retry succeeds: requests are signed again.
    while (calls.length === asked) await advance(1000);
    calls.at(-1)!.resolve(credentials('B', HOUR));
    await advance(0);
    assert.equal((await cache.get()).accessKeyId, 'B');
    assert.equal(seen.failed.length >= 3, true);
    cache.close();
  });

  it('never refreshes keys that do not expire', async () => {
    const { fetch, calls } = scriptedFetch();
    const cache = cachedCredentials(fetch, recorded().events, now);
    const started = cache.start();
    calls[0]!.resolve(credentials('STATIC'));
    await started;
    await advance(30 * 24 * HOUR);
    assert.equal((await cache.get()).accessKeyId, 'STATIC');
    assert.equal(calls.length, 1);
    cache.close();
  });

  it('fails start-up when the first fetch fails', async () => {
    const { fetch, calls } = scriptedFetch();
    const cache = cachedCredentials(fetch, recorded().events, now);
    const started = cache.start();
    calls[0]!.reject(new Error('Could not load credentials from any providers'));
    await assert.rejects(started, /Could not load credentials from any providers/);
    cache.close();
  });
});
