import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Prometheus's error types, plus the two it has no need for (it authenticates no one). */
export type ErrorType =
  | 'bad_data'
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'timeout'
  | 'unavailable'
  | 'internal';

/**
 * Answers with Prometheus's JSON error shape (returning the body's length), written straight to Node's response like every answer promgate sends.
 * When the answer had already started (an upstream failing mid-stream), the connection is cut instead, so that
 * the client sees a truncated answer as an error and never as a complete one.
 */
export function sendError(
  res: ServerResponse,
  status: number,
  errorType: ErrorType,
  message: string,
  headers?: OutgoingHttpHeaders,
): number {
  if (res.headersSent) {
    res.destroy();
    return 0;
  }
  const body = JSON.stringify({ status: 'error', errorType, error: message });
  const length = Buffer.byteLength(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': length });
  res.end(body);
  return length;
}
