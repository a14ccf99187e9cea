import { parseDuration } from '../duration.js';
import type { Param } from '../http/form.js';
import type { TenantLimits } from './limits.js';

/** Which window limit a query is over, or which of its parameters cannot be read to check it. */
export type WindowRefusal =
  | { readonly reason: 'range' | 'lookback' | 'points'; readonly message: string }
  | { readonly reason: 'unreadable'; readonly message: string };

/**
 * Checks a query's window against a tenant's limits: the range (`end - start`) and the points per series
 * (`(end - start) / step`, as Prometheus counts them for its own 11,000) of a range query, and its lookback (what
 * the parser measured on the query, and `lookback_delta`). Parameters are the decoded ones, each given once (the
 * rebuild refuses a second value). A missing or invalid parameter is left to the upstream, which refuses it,
 * except one a limit needs that promgate cannot read: refused, rather than let through unchecked.
 */
export function checkQueryWindow(
  params: readonly Param[],
  lookbackMs: number,
  limits: TenantLimits,
  isRange: boolean,
): WindowRefusal | undefined {
  const lookback = limits.maxLookbackMs > 0;
  const window = isRange && (limits.maxRangeMs > 0 || limits.maxPoints > 0);
  if (!lookback && !window) return undefined;
  // One pass over the parameters for the four a limit reads.
  let startText: string | undefined;
  let endText: string | undefined;
  let stepText: string | undefined;
  let delta: string | undefined;
  for (const [name, value] of params) {
    if (name === 'start') startText ??= value;
    else if (name === 'end') endText ??= value;
    else if (name === 'step') stepText ??= value;
    else if (name === 'lookback_delta') delta ??= value;
  }
  if (lookback) {
    if (lookbackMs > limits.maxLookbackMs) {
      const measured = lookbackMs === Infinity ? 'a duration set by step() or range()' : formatDuration(lookbackMs);
      return {
        reason: 'lookback',
        message: `query looks back too far: ${measured} (limit ${formatDuration(limits.maxLookbackMs)}), counting the ranges and offsets of its selectors and subqueries`,
      };
    }
    if (delta !== undefined) {
      const ms = readDuration(delta);
      if (ms === undefined) return unreadable('lookback_delta', delta, 'duration');
      if (ms > limits.maxLookbackMs) {
        return { reason: 'lookback', message: `query looks back too far: lookback_delta ${formatDuration(ms)} (limit ${formatDuration(limits.maxLookbackMs)})` };
      }
    }
  }
  if (!window || startText === undefined || endText === undefined) return undefined;
  const start = readTime(startText);
  if (start === undefined) return unreadable('start', startText, 'timestamp');
  const end = readTime(endText);
  if (end === undefined) return unreadable('end', endText, 'timestamp');
  const range = end - start;
  if (limits.maxRangeMs > 0 && range > limits.maxRangeMs) {
    return { reason: 'range', message: `query range too long: ${formatDuration(range)} (limit ${formatDuration(limits.maxRangeMs)})` };
  }
  if (limits.maxPoints === 0 || stepText === undefined) return undefined;
  const step = readDuration(stepText);
  if (step === undefined) return unreadable('step', stepText, 'duration');
  // Prometheus refuses a step of 0 or less itself; its count is the whole steps in the range.
  if (step <= 0) return undefined;
  const points = Math.floor(range / step);
  if (points > limits.maxPoints) {
    return {
      reason: 'points',
      message: `too many points per series: ${points} (limit ${limits.maxPoints}); raise the step (?step=) or shorten the range`,
    };
  }
  return undefined;
}

const unreadable = (name: string, value: string, what: string): WindowRefusal => ({
  reason: 'unreadable',
  message: `invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(value)} to a valid ${what}`,
});

// What Go's strconv.ParseFloat takes in decimal (its hexadecimal and Inf/NaN forms are not read here: refused).
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// time.RFC3339Nano as Go's time.Parse reads it.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
// Prometheus's own boundary times, which its parser knows by name (client_golang sends them for "no bound").
const MIN_TIME = '-292273086-05-16T16:47:06Z';
const MAX_TIME = '292277025-08-18T07:12:54.999999999Z';

/** A `start`/`end` value as Prometheus's parseTime reads it, in ms since the epoch; undefined when not read. */
export function readTime(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text) * 1000;
  if (RFC3339.test(text)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (text === MIN_TIME) return -Infinity;
  if (text === MAX_TIME) return Infinity;
  return undefined;
}

/** A `step`/`lookback_delta` value as Prometheus's parseDuration reads it (seconds, or 5m, 1h30m…), in ms. */
export function readDuration(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text) * 1000;
  const ms = parseDuration(text);
  return ms.ok ? ms.value : undefined;
}

const UNITS: readonly (readonly [string, number])[] = [
  ['y', 31_536_000_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** A duration in Prometheus's units, weeks left out for reading (`32d`, `1h30m`, `1y15d`); whole milliseconds. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'an unbounded time';
  let rest = Math.round(ms);
  if (rest <= 0) return '0s';
  let text = '';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      text += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return text;
}
