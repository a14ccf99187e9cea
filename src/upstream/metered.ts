import { BodyTooLarge } from '../http/body.js';
import type { UpstreamFailure } from '../observability/metrics.js';
import { upstreamFailure } from './failure.js';
import { CLIENT_GONE } from './forward.js';
import { tapped } from './tap.js';
import type { Upstream, UpstreamRequest } from './upstream.js';

/** What an upstream's calls are counted by (a component's metrics, say). */
export interface UpstreamObserver {
  /** A request is on its way. */
  sent(): void;
  /** Its answer's headers arrived, `seconds` after it was sent. */
  answered(status: number, seconds: number): void;
  /** It got no answer (unavailable, timeout), or the answer broke off (interrupted, timeout). */
  failed(kind: UpstreamFailure): void;
}

/**
 * The upstream, each call told to `observer`. A client that went away, or a body that outgrew its limit, is no
 * failure of the upstream's, and is not counted as one.
 */
export function metered(upstream: Upstream, observer: UpstreamObserver): Upstream {
  return {
    request: async (req: UpstreamRequest) => {
      observer.sent();
      const sent = performance.now();
      try {
        const answer = await upstream.request(req);
        observer.answered(answer.statusCode, (performance.now() - sent) / 1000);
        return answer;
      } catch (error) {
        const kind = failureOf(error, false);
        if (kind !== undefined) observer.failed(kind);
        throw error;
      }
    },
    dispatch: (req, handler) => {
      observer.sent();
      const sent = performance.now();
      upstream.dispatch(req, tapped(handler, {
        answered: (status) => observer.answered(status, (performance.now() - sent) / 1000),
        failed: (error, answering) => {
          const kind = failureOf(error, answering);
          if (kind !== undefined) observer.failed(kind);
        },
      }));
    },
    close: () => upstream.close(),
  };
}

function failureOf(error: unknown, answering: boolean): UpstreamFailure | undefined {
  if (error === CLIENT_GONE || error instanceof BodyTooLarge) return undefined;
  const failure = upstreamFailure(error);
  return answering && failure !== 'timeout' ? 'interrupted' : failure;
}
