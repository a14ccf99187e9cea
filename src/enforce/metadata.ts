import { err, ok, type Result } from '../result.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The metric names in a successful /api/v1/label/__name__/values answer. */
export function metricNames(answer: unknown): Result<Set<string>, string> {
  if (!isObject(answer) || answer.status !== 'success' || !Array.isArray(answer.data)) {
    return err('the upstream gave no list of metric names');
  }
  return ok(new Set(answer.data.filter((n): n is string => typeof n === 'string')));
}

/**
 * A successful /api/v1/metadata answer cut down to the tenant's metric names, then to `limit` metrics
 * (negative: no limit), so that it is what a Prometheus holding only the tenant's series would answer.
 */
export function filterMetadata(answer: unknown, names: ReadonlySet<string>, limit: number): Result<unknown, string> {
  if (!isObject(answer) || answer.status !== 'success' || !isObject(answer.data)) {
    return err('the upstream gave no metadata');
  }
  // No prototype: a metric may be named `__proto__`, which on a plain object would set the prototype, not a key.
  const data: Record<string, unknown> = Object.create(null);
  let count = 0;
  for (const name of Object.keys(answer.data)) {
    if (limit >= 0 && count >= limit) break;
    if (!names.has(name)) continue;
    data[name] = answer.data[name];
    count++;
  }
  return ok({ ...answer, data });
}
