// Route handlers called as the gateway calls them, for the tests beside each handler family (src/routes/*/).
import assert from 'node:assert/strict';
import { PromQLError, type Matcher } from 'promql-parser-wasm';
import type { Principal } from '../../src/auth/types.js';
import { EnforcedCache } from '../../src/enforce/params.js';
import { selectorText } from '../../src/enforce/selector.js';
import { decodeForm, type Param } from '../../src/http/form.js';
import type { Result } from '../../src/result.js';
import type { Action, Method, Refusal, UpstreamCall } from '../../src/routes/route.js';
import { PROMETHEUS_ROUTES, RouteTable } from '../../src/routes/table.js';
import type { JsonAnswer, JsonClient } from '../../src/upstream/json.js';

export const A: Matcher[] = [{ name: 'namespace', type: '=', value: 'tenant-a' }];
export const AB: Matcher[] = [
  { name: 'namespace', type: '=~', value: 'tenant-a|tenant-b' },
  { name: 'team', type: '=', value: 'a "quoted" \\ value' },
];

const TABLE = new RouteTable(PROMETHEUS_ROUTES);

/** A principal with these matchers (none: one known by tenant id only). */
export function principalWith(matchers: readonly Matcher[]): Principal {
  const grant = matchers.length === 0 ? { namespaces: [], labels: {}, tenantId: 't' } : { namespaces: [], labels: {} };
  return { user: 'u', metricsUser: 'u', grant, matchers, key: selectorText(matchers) };
}

/** What the handler of `path` decides for these parameters. */
export function decide(
  path: string,
  params: readonly Param[],
  matchers: readonly Matcher[] = A,
  cache = new EnforcedCache({ maxBytes: 1 << 20, maxParamLength: 4096 }),
  method: Method = 'GET',
): Result<Action, Refusal> {
  const match = TABLE.find(path);
  assert.ok(match, `no route for ${path}`);
  return match.route.handler({ principal: principalWith(matchers), path, method, params, segments: match.segments, cache });
}

/** The upstream call a streamed request makes. */
export function call(path: string, params: readonly Param[], matchers: readonly Matcher[] = A): UpstreamCall {
  const decided = decide(path, params, matchers);
  assert.ok(decided.ok, JSON.stringify(decided));
  assert.equal(decided.value.kind, 'stream');
  if (decided.value.kind !== 'stream') throw new Error('unreachable');
  return decided.value.call;
}

/** The parameters promgate would send, decoded again. */
export function sent(path: string, params: readonly Param[], matchers: readonly Matcher[] = A): Param[] {
  const out: Param[] = [];
  assert.ok(decodeForm(call(path, params, matchers).params, out).ok);
  return out;
}

/** The message of a 400 refusal. */
export function refusal(path: string, params: readonly Param[], matchers: readonly Matcher[] = A): string {
  const decided = decide(path, params, matchers);
  assert.equal(decided.ok, false, 'accepted');
  if (decided.ok) throw new Error('unreachable');
  assert.equal(decided.error.status, 400);
  assert.equal(decided.error.errorType, 'bad_data');
  return decided.error.message;
}

/** The parser's message for what `run` refuses. */
export function parserMessage(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (e instanceof PromQLError) return e.message;
  }
  throw new Error('no PromQLError');
}

/** A JSON client that answers from a list and records what it was asked: the handler's upstream calls. */
export function scripted(...answers: JsonAnswer[]): JsonClient & { asked: { path: string; params: Param[] }[] } {
  const asked: { path: string; params: Param[] }[] = [];
  return {
    asked,
    get(path, params) {
      const decoded: Param[] = [];
      assert.ok(decodeForm(params, decoded).ok);
      asked.push({ path, params: decoded });
      const answer = answers.shift();
      assert.ok(answer, `no answer left for ${path}`);
      return Promise.resolve(answer);
    },
  };
}
