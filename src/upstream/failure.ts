import type { ServerResponse } from 'node:http';
import { errors } from 'undici';
import { BodyTooLarge } from '../http/body.js';
import { sendError } from '../http/errors.js';
import type { UpstreamFailure } from '../observability/metrics.js';

/** What went wrong when the upstream gave no (complete) answer. */
export function upstreamFailure(error: unknown): UpstreamFailure {
  if (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError
  ) {
    return 'timeout';
  }
  return 'unavailable';
}

/**
 * The one answer to an upstream call that failed before its answer began: 504 when the upstream was too slow,
 * 502 when it could not be reached or broke off, and 413 when the body streamed to it outgrew its limit (the
 * failure is then the caller's, and the metrics' kind says 'unavailable' only for the upstream's). Returns the
 * failure, for the metrics, and the bytes sent.
 */
export function answerUpstreamFailure(res: ServerResponse, error: unknown): { failure: UpstreamFailure | undefined; bytes: number } {
  if (error instanceof BodyTooLarge) {
    return { failure: undefined, bytes: sendError(res, 413, 'bad_data', error.message, { connection: 'close' }) };
  }
  const failure = upstreamFailure(error);
  const message = error instanceof Error ? error.message : String(error);
  const bytes =
    failure === 'timeout'
      ? sendError(res, 504, 'timeout', 'the upstream did not answer in time')
      : sendError(res, 502, 'unavailable', `the upstream is unavailable: ${message}`);
  return { failure, bytes };
}
