import { err, ok, type Result } from '../result.js';

export interface Target {
  /** The path exactly as the client sent it (still percent-encoded). */
  readonly path: string;
  /** The raw query string without `?`, '' when none. */
  readonly query: string;
}

// Encoded '/', '.' and '\' would let a path mean something else after decoding; dot segments and empty
// segments something else after normalisation. Upstreams and intermediaries disagree on both, so any of them is refused.
const NON_CANONICAL = /\/\/|\/\.\.?(?:\/|$)|\\|%2f|%2e|%5c/i;

/**
 * Splits a raw HTTP request-target and refuses a path that is not in canonical form, so that the exact
 * comparison with the endpoint table means the same thing to promgate and to the upstream.
 */
export function parseTarget(raw: string): Result<Target, string> {
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  if (path.charCodeAt(0) !== 47 /* / */) return err('the request path must start with "/"');
  if (NON_CANONICAL.test(path)) return err(`non-canonical request path ${JSON.stringify(path)}`);
  if (path.includes('#')) return err('a fragment is not allowed in the request path');
  return ok({ path, query: q === -1 ? '' : raw.slice(q + 1) });
}

// Prometheus's label name syntax. Names outside it (Prometheus 3 UTF-8 names) reach the label-values path as
// their `U__` escaped form, which is inside it, so nothing that could change the upstream path gets through.
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The `<name>` segment of `/api/v1/label/<name>/values`, percent-decoded once and validated. */
export function labelNameFromSegment(segment: string): Result<string, string> {
  let name: string;
  try {
    name = segment.includes('%') ? decodeURIComponent(segment) : segment;
  } catch {
    return err(`invalid label name ${JSON.stringify(segment)}`);
  }
  if (!LABEL_NAME.test(name)) return err(`invalid label name ${JSON.stringify(name)}`);
  return ok(name);
}
