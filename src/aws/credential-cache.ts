import type { AwsCredentials, CredentialFetch } from './credentials.js';

/** No credentials valid now: the request cannot be signed (502). */
export class CredentialsUnavailable extends Error {}

/** What a cache tells of its refreshes, for logs and metrics. */
export interface CacheEvents {
  refreshed(credentials: AwsCredentials, after: Error | undefined): void;
  /** `kept`: the credentials still in use, if any are still valid. */
  failed(error: Error, kept: AwsCredentials | undefined): void;
}

export interface CredentialCache {
  /** Valid credentials: the cached ones at once while they are valid; else the refresh under way, or a new one. */
  get(): Promise<AwsCredentials>;
  /** The first fetch, whose failure stops start-up. */
  start(): Promise<AwsCredentials>;
  close(): void;
}

// Refreshed this long before they expire (as the AWS SDKs do), or at half their remaining life when that is shorter.
const REFRESH_BEFORE_MS = 5 * 60_000;
// Credentials this close to their expiry are not used, as a request signed with them could arrive after it: 10 s,
// or a quarter of their life when that is shorter.
const EXPIRY_MARGIN_MS = 10_000;
// A failed refresh is tried again after 1 s, then twice as long each time, up to a minute.
const RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;
// A Node timer holds at most 2^31 - 1 ms; a later refresh is reached in steps of a day.
const MAX_TIMER_MS = 86_400_000;

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * Credentials cached and refreshed in the background before they expire, so that no request waits on a refresh:
 * while the cached ones are valid every request is signed with them, the refresh under way or not. Only a request
 * that finds none valid waits, on the one refresh under way (never a second). A failed refresh keeps the last
 * good credentials while they are valid, and is tried again with a back-off; requests that find none valid then
 * fail at once with the reason, rather than each asking the credential service again.
 */
export function cachedCredentials(fetch: CredentialFetch, events: CacheEvents, now: () => number = Date.now): CredentialCache {
  let current: AwsCredentials | undefined;
  /** When `current` stops being used; Infinity for keys that do not expire. */
  let validUntil = 0;
  let refreshing: Promise<AwsCredentials> | undefined;
  let lastError: Error | undefined;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const valid = (c: AwsCredentials | undefined): c is AwsCredentials => c !== undefined && now() < validUntil;

  const refreshAt = (at: number): void => {
    clearTimeout(timer);
    if (closed) return;
    const wait = Math.min(Math.max(0, at - now()), MAX_TIMER_MS);
    timer = setTimeout(() => (now() < at ? refreshAt(at) : void refresh().catch(() => undefined)), wait);
    timer.unref();
  };

  const refresh = (): Promise<AwsCredentials> => {
    refreshing ??= fetch({ forceRefresh: current !== undefined || lastError !== undefined })
      .then(
        (credentials) => {
          const after = lastError;
          current = credentials;
          lastError = undefined;
          failures = 0;
          validUntil = Infinity;
          if (credentials.expiration !== undefined) {
            const left = credentials.expiration.getTime() - now();
            validUntil = now() + left - Math.min(EXPIRY_MARGIN_MS, left / 4);
            refreshAt(now() + Math.max(RETRY_MS, left - REFRESH_BEFORE_MS, left / 2));
          }
          events.refreshed(credentials, after);
          return credentials;
        },
        (e: unknown) => {
          lastError = asError(e);
          failures++;
          refreshAt(now() + Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** (failures - 1)));
          events.failed(lastError, valid(current) ? current : undefined);
          throw lastError;
        },
      )
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };

  const unavailable = (error: Error): CredentialsUnavailable =>
    new CredentialsUnavailable(`no valid AWS credentials${current === undefined ? '' : ' (the last ones have expired)'}: ${error.message}`);

  return {
    get() {
      if (valid(current)) return Promise.resolve(current);
      if (refreshing !== undefined) return refreshing.catch((e: unknown) => Promise.reject(unavailable(asError(e))));
      // The retry is scheduled: until it runs, the reason it failed is the answer.
      if (lastError !== undefined) return Promise.reject(unavailable(lastError));
      return refresh().catch((e: unknown) => Promise.reject(unavailable(asError(e))));
    },
    start: () => refresh(),
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
