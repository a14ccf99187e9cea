// PromQLError's code: which kind of refusal, as the module reports it in its status (or the wrapper decides).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { enforce, enforceQuery, enforceSelector, format, parse, PromQLError, type Matcher, type PromQLErrorCode } from '../ts/index.js';
import { encodeMatchers } from '../ts/matchers.js';
import { MAX_INPUT_BYTES, Operation, Parser } from '../ts/runtime.js';
import { FORTY_NAMESPACES, selectorChain } from './support/blow-up.js';

const NS: readonly Matcher[] = [{ name: 'namespace', type: '=', value: 'a' }];
const DEEP = `${'('.repeat(300)}1${')'.repeat(300)}`;
const MAX_ENFORCED_BYTES = 16 * 1024 * 1024;
const TOO_LARGE_ENFORCED = 'query too large once enforced: over 16777216 bytes';

/** The PromQLError `run` throws; fails when it returns or throws anything else. */
function refusal(run: () => unknown): PromQLError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof PromQLError, `not a PromQLError: ${String(e)}`);
    return e;
  }
  assert.fail('accepted');
}

interface Case {
  readonly name: string;
  readonly run: () => unknown;
  readonly code: PromQLErrorCode;
  readonly message: RegExp | string;
  readonly position?: { line: number; column: number };
}

const CASES: readonly Case[] = [
  { name: 'unclosed call', run: () => format('sum('), code: 'syntax', message: '1:5: parse error: unclosed left parenthesis', position: { line: 1, column: 5 } },
  { name: 'type error', run: () => parse('rate(1)'), code: 'syntax', message: /^1:6: parse error: expected type range vector/ },
  { name: 'invalid UTF-8', run: () => format('a\uD800'), code: 'syntax', message: '1:2: parse error: invalid UTF-8 rune' },
  { name: 'bad regex in the query', run: () => enforce('{a=~"("}', NS), code: 'syntax', message: '1:2: parse error: error parsing regexp: missing closing ): `(`' },
  { name: 'bad regex matcher', run: () => enforce('up', [{ name: 'a', type: '=~', value: '(' }]), code: 'syntax', message: 'invalid matcher "a": error parsing regexp: missing closing ): `(`' },
  // Go's regexp syntax errors, however their message reads: not the parser's own limits.
  { name: 'regex too large', run: () => format(`{a=~"(?:${'a'.repeat(4000)}){1000}"}`), code: 'syntax', message: /^1:2: parse error: error parsing regexp: expression too large: / },
  { name: 'regex nested too deeply', run: () => format(`{a=~"${'('.repeat(1000)}a${')'.repeat(1000)}"}`), code: 'syntax', message: /^1:2: parse error: error parsing regexp: expression nests too deeply: / },
  { name: 'empty matcher name', run: () => enforce('up', [{ name: '', type: '=', value: 'a' }]), code: 'syntax', message: 'invalid matcher: empty label name' },
  { name: 'malformed matcher', run: () => enforce('up', [{ name: 'a', type: '==' as never, value: 'a' }]), code: 'syntax', message: /^invalid matcher \{"name":"a","type":"=="/ },
  { name: 'selector not a selector', run: () => enforceSelector('sum(a)', NS), code: 'syntax', message: '1:4: parse error: unexpected "("' },
  { name: 'type-check cost over the limit', run: () => enforceQuery('a+a+a+a', NS, { maxCost: 14 }), code: 'too_complex', message: /^query too complex: type-check cost 15 \(limit 14\): / },
  { name: 'nodes over the limit once enforced', run: () => enforceQuery('absent(a)', NS, { maxNodes: 6 }), code: 'too_complex', message: 'query too complex: 7 nodes (limit 6)' },
  { name: 'nodes over the limit, while parsing', run: () => enforceQuery('a+a+a+a', NS, { maxNodes: 2 }), code: 'too_complex', message: 'query too complex: more than 2 nodes (limit 2)' },
  { name: 'nesting, format', run: () => format(DEEP), code: 'too_deep', message: '1:257: parse error: query too deeply nested', position: { line: 1, column: 257 } },
  { name: 'nesting, parse', run: () => parse(DEEP), code: 'too_deep', message: '1:257: parse error: query too deeply nested' },
  { name: 'nesting, enforce', run: () => enforce(`${'sum('.repeat(10_000)}a${')'.repeat(10_000)}`, NS), code: 'too_deep', message: /query too deeply nested$/ },
  { name: 'nesting, subqueries', run: () => enforce(`a${'[1m:]'.repeat(300)}`, NS), code: 'too_deep', message: /query too deeply nested$/ },
  { name: 'input over 16 MiB', run: () => format('a'.repeat(MAX_INPUT_BYTES + 1)), code: 'too_large', message: 'query too large: at least 16777217 bytes (limit 16777216 bytes)' },
  { name: 'input over 16 MiB in UTF-8', run: () => enforce('é'.repeat(9 * 1024 * 1024), NS), code: 'too_large', message: 'query too large: 18874368 bytes (limit 16777216 bytes)' },
  { name: 'selector over 16 MiB', run: () => enforceSelector('a'.repeat(MAX_INPUT_BYTES + 1), NS, 'federate'), code: 'too_large', message: /^query too large: / },
  { name: 'enforced text over 16 MiB', run: () => enforce(selectorChain(128 * 1024), FORTY_NAMESPACES), code: 'too_large', message: TOO_LARGE_ENFORCED },
  { name: 'enforced selector over 16 MiB', run: () => enforceSelector('a'.repeat(MAX_ENFORCED_BYTES), NS), code: 'too_large', message: TOO_LARGE_ENFORCED },
];

describe('every refusal has its code', () => {
  for (const c of CASES) {
    test(`${c.code}: ${c.name}`, () => {
      const e = refusal(c.run);
      assert.equal(e.code, c.code, e.message);
      assert.equal(e.name, 'PromQLError');
      if (typeof c.message === 'string') assert.equal(e.message, c.message);
      else assert.match(e.message, c.message);
      if (c.position !== undefined) assert.deepEqual(e.position, c.position);
      if (c.code === 'too_large' || c.code === 'too_complex') assert.equal(e.position, undefined, 'about the whole text, not a place in it');
    });
  }

  test('the limits themselves are no refusal', () => {
    assert.equal(format(`${'('.repeat(256)}1${')'.repeat(256)}`), `${'('.repeat(256)}1${')'.repeat(256)}`);
    const atLimit = 'a'.repeat(MAX_ENFORCED_BYTES - '{namespace="a"}'.length);
    assert.equal(enforceSelector(atLimit, NS).length, MAX_ENFORCED_BYTES);
  });
});

test('a PromQLError made without a code is a syntax error; options still carry the cause', () => {
  const cause = new Error('why');
  assert.equal(new PromQLError('m').code, 'syntax');
  const e = new PromQLError('m', { line: 1, column: 2 }, { cause });
  assert.equal(e.code, 'syntax');
  assert.equal(e.cause, cause);
  assert.deepEqual(e.position, { line: 1, column: 2 });
  assert.equal(new PromQLError('m', undefined, { code: 'too_deep' }).code, 'too_deep');
});

describe('the module reports the kind as its status', () => {
  // The ABI without the wrapper: the wrapper refuses inputs over 16 MiB itself, so the module's own size check is
  // reached only this way.
  interface Exports {
    memory: WebAssembly.Memory;
    alloc(len: number): number;
    format(qPtr: number, qLen: number): number;
    enforce(qPtr: number, qLen: number, mPtr: number, mLen: number, maxNodes?: number, maxCost?: number): number;
    result_len(): number;
  }
  const module = new WebAssembly.Module(readFileSync(new URL('../promql_parser.wasm', import.meta.url)));
  const exports = new WebAssembly.Instance(module, {}).exports as unknown as Exports;
  /** format(query), or enforce(query, matchers) when there are matchers: the status. */
  const call = (query: Uint8Array, matchers: Uint8Array = new Uint8Array(0)): number => {
    const ptr = exports.alloc(query.length + matchers.length);
    new Uint8Array(exports.memory.buffer).set(query, ptr);
    new Uint8Array(exports.memory.buffer).set(matchers, ptr + query.length);
    if (matchers.length === 0) return exports.format(ptr, query.length);
    return exports.enforce(ptr, query.length, ptr + query.length, matchers.length);
  };
  const utf8 = (s: string) => new TextEncoder().encode(s);
  for (const [name, query, status] of [
    ['accepted', utf8('sum(a)'), 0],
    ['syntax', utf8('sum('), 1],
    ['too deep', utf8(DEEP), 2],
    ['too large', new Uint8Array(MAX_INPUT_BYTES + 1).fill(0x61), 3],
  ] as const) {
    test(`${status}: ${name}`, () => assert.equal(call(query), status));
  }
  test('4: too complex', () => {
    const query = utf8('a+a+a');
    const ptr = exports.alloc(query.length);
    new Uint8Array(exports.memory.buffer).set(query, ptr);
    assert.equal(exports.enforce(ptr, query.length, ptr + query.length, 0, 0, 7), 4);
    assert.equal(exports.enforce(ptr, query.length, ptr + query.length, 0, 4, 0), 4);
    assert.equal(exports.enforce(ptr, query.length, ptr + query.length, 0, 5, 9), 0);
  });
  test('3: too large once enforced', () => {
    assert.equal(call(utf8(selectorChain(128 * 1024)), encodeMatchers(FORTY_NAMESPACES)), 3);
    assert.equal(exports.result_len(), TOO_LARGE_ENFORCED.length);
  });
});

describe('internal: a failure inside the module', () => {
  // A stand-in module with the parser's ABI, assembled with binaryen's wasm-as from:
  //   (memory (export "memory") 1)  (data (i32.const 0) "null")  (global $poisoned (mut i32) (i32.const 0))
  //   alloc → 1024; dealloc → nothing; result_ptr → 0; result_len → 4; error_line, error_column, result_nodes,
  //   result_cost, result_lookback_ms → 0
  //   format: sets $poisoned to 1, then traps (unreachable); parse: sets $poisoned to 1, returns status 7
  //   enforce: returns $poisoned as its status; enforce_selector: traps
  const STUB = new WebAssembly.Module(Buffer.from(
    'AGFzbQEAAAABLAdgAAF/YAJ/fwF/YAABfGABfwF/YAJ/fwBgBn9/f39/fAF/YAV/f39/fwF/Aw4NAwQBAQUGAAAAAAACAgUDAQABBgYBfwFBAAsHsgEOBm1lbW9yeQIABWFsbG9jAAAHZGVhbGxvYwABBmZvcm1hdAACBXBhcnNlAAMHZW5mb3JjZQAEEGVuZm9yY2Vfc2VsZWN0b3IABQpyZXN1bHRfcHRyAAYKcmVzdWx0X2xlbgAHCmVycm9yX2xpbmUACAxlcnJvcl9jb2x1bW4ACQxyZXN1bHRfbm9kZXMACgtyZXN1bHRfY29zdAALEnJlc3VsdF9sb29rYmFja19tcwAMClYNBQBBgAgLAwABCwcAQQEkAAALCABBASQAQQcLBAAjAAsDAAALBABBAAsEAEEECwQAQQALBABBAAsEAEEACwsARAAAAAAAAAAACwsARAAAAAAAAAAACwsKAQBBAAsEbnVsbA==',
    'base64',
  ));
  const noMatchers = new Uint8Array(0);

  test('a trap is internal, with the trap as its cause, and the instance is replaced', () => {
    const parser = new Parser(STUB);
    assert.equal(parser.run(Operation.Enforce, 'up', noMatchers), 'null');
    const e = refusal(() => parser.run(Operation.Format, 'up', null));
    assert.equal(e.code, 'internal');
    assert.match(e.message, /^internal parser error, query refused: /);
    assert.ok(e.cause instanceof WebAssembly.RuntimeError);
    assert.equal(e.position, undefined);
    // The trapped instance left $poisoned set: reused, it would answer enforce with status 1 (a syntax error).
    assert.equal(parser.run(Operation.Enforce, 'up', noMatchers), 'null');
    assert.equal(refusal(() => parser.run(Operation.EnforceSelector, 'up', noMatchers)).code, 'internal');
    assert.equal(parser.run(Operation.Enforce, 'up', noMatchers), 'null');
  });

  test('an unknown status is internal, and the instance is replaced', () => {
    const parser = new Parser(STUB);
    const e = refusal(() => parser.run(Operation.Parse, 'up', null));
    assert.equal(e.code, 'internal');
    assert.equal(e.message, 'internal parser error, query refused: unknown status 7');
    assert.equal(parser.run(Operation.Enforce, 'up', noMatchers), 'null');
  });
});
