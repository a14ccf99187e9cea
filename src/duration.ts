import { err, ok, type Result } from './result.js';

// Prometheus's duration units (model.ParseDuration), which its flags and config files use.
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const PART = /(\d+)(ms|s|m|h|d|w|y)/g;
const SECONDS = /^\d+$/;

/**
 * A duration in milliseconds: `500ms`, `30s`, `1m30s`, `12h`, `30d`, `2w`, `1y` (Prometheus's syntax: whole
 * numbers of its units), or a plain whole number of seconds. Callers bound the range they accept.
 */
export function parseDuration(text: string): Result<number, string> {
  const value = text.trim();
  if (SECONDS.test(value)) return ok(Number(value) * 1000);
  if (!DURATION.test(value)) return err(`${JSON.stringify(text)} is not a duration such as 30s, 2m, 1h30m or 30d`);
  let ms = 0;
  for (const [, n, unit] of value.matchAll(PART)) ms += Number(n) * UNIT_MS[unit!]!;
  return ok(ms);
}
