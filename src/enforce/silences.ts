import type { Matcher } from 'promql-parser-wasm';
import { err, ok, type Result } from '../result.js';
import { isJsonObject, type JsonObject } from './json.js';
import { labelSetTest } from './label-set.js';

/** A matcher as Alertmanager's API writes it in a silence. */
export interface SilenceMatcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual: boolean;
}

/** A tenant's matcher in a silence's terms: `=~` is a regex that must match, `!=` an equality that must not. */
export function silenceMatcher(m: Matcher): SilenceMatcher {
  return { name: m.name, value: m.value, isRegex: m.type === '=~' || m.type === '!~', isEqual: m.type === '=' || m.type === '=~' };
}

const same = (a: SilenceMatcher, b: SilenceMatcher): boolean =>
  a.name === b.name && a.value === b.value && a.isRegex === b.isRegex && a.isEqual === b.isEqual;

/** A silence's matcher as Alertmanager wrote or a caller sent it; undefined when it is not one. */
function readMatcher(value: unknown): SilenceMatcher | undefined {
  if (!isJsonObject(value)) return undefined;
  const { name, value: v, isRegex, isEqual } = value;
  if (typeof name !== 'string' || name === '' || typeof v !== 'string' || typeof isRegex !== 'boolean') return undefined;
  // Alertmanager takes a matcher without isEqual as an equality, as its API did before isEqual existed.
  if (isEqual !== undefined && typeof isEqual !== 'boolean') return undefined;
  return { name, value: v, isRegex, isEqual: isEqual ?? true };
}

/**
 * Whether a silence belongs to the tenant: it carries every one of the tenant's matchers, so that it can mute
 * none of another tenant's alerts. A silence confined in some other way (a narrower namespace, say) is not the
 * tenant's: whether one set of matchers implies another is not decided, only whether they are written in.
 */
export function ownsSilence(silence: unknown, tenant: readonly Matcher[]): boolean {
  if (!isJsonObject(silence) || !Array.isArray(silence['matchers'])) return false;
  const carried = silence['matchers'].map(readMatcher);
  return tenant.map(silenceMatcher).every((wanted) => carried.some((m) => m !== undefined && same(m, wanted)));
}

/** `GET /api/v2/silences`: only the tenant's own silences. */
export function tenantSilences(silences: unknown, tenant: readonly Matcher[]): Result<unknown[], string> {
  if (!Array.isArray(silences)) return err('the silences answer is not a list');
  return ok(silences.filter((s) => ownsSilence(s, tenant)));
}

// The fields of Alertmanager's postableSilence; anything else a caller sends stays here.
const SILENCE_FIELDS = ['startsAt', 'endsAt', 'createdBy', 'comment'] as const;

/** Alertmanager's silence ids, as its API checks them (strfmt's UUID). */
export const SILENCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A silence to create or update, with the tenant's matchers in it; `id` is set for an update. */
export interface TenantSilence {
  readonly id?: string;
  readonly body: JsonObject;
}

/**
 * A silence a tenant posts, made to mute only the tenant's alerts: the tenant's matchers come first, then the
 * caller's own. A caller's matcher that repeats one of the tenant's is dropped (Grafana sends a silence back with
 * them when it edits one). On a label the tenant is confined by, the caller may narrow with an equality to a value
 * the tenant may see (`namespace="a"` for a grant of a and b); any other matcher there would contradict or widen
 * the tenant's and is refused. At least one matcher of the caller's own must be left, or the silence would mute
 * every alert of the tenant.
 */
export function tenantSilence(posted: unknown, tenant: readonly Matcher[]): Result<TenantSilence, string> {
  if (!isJsonObject(posted)) return err('the silence must be a JSON object');
  const id = posted['id'];
  if (id !== undefined && id !== '' && (typeof id !== 'string' || !SILENCE_ID.test(id))) return err('the silence id must be a UUID');
  if (!Array.isArray(posted['matchers']) || posted['matchers'].length === 0) return err('the silence has no matchers');
  const confining = tenant.map(silenceMatcher);
  const confined = new Set(tenant.map((m) => m.name));
  const own: SilenceMatcher[] = [];
  for (const raw of posted['matchers']) {
    const m = readMatcher(raw);
    if (m === undefined) return err('each matcher must have a name, a value and isRegex (and isEqual, if given, a boolean)');
    if (confining.some((t) => same(t, m))) continue;
    if (confined.has(m.name)) {
      const narrows = !m.isRegex && m.isEqual && labelSetTest(tenant.filter((t) => t.name === m.name))({ [m.name]: m.value });
      if (!narrows) return err(`the matcher ${describe(m)} contradicts or widens the tenant's ${describeAll(confining, m.name)}`);
    }
    own.push(m);
  }
  if (own.length === 0) return err(`a silence needs a matcher of its own besides the tenant's ${describeAll(confining)}`);
  const body: JsonObject = { ...(typeof id === 'string' && id !== '' && { id }), matchers: [...confining, ...own] };
  for (const field of SILENCE_FIELDS) if (field in posted) body[field] = posted[field];
  return ok(typeof id === 'string' && id !== '' ? { id, body } : { body });
}

function describe(m: SilenceMatcher): string {
  const op = m.isEqual ? (m.isRegex ? '=~' : '=') : m.isRegex ? '!~' : '!=';
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

const describeAll = (ms: readonly SilenceMatcher[], name?: string): string =>
  ms.filter((m) => name === undefined || m.name === name).map(describe).join(', ');
