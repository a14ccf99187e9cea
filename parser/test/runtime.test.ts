// The wrapper around the module: a trap costs one query and the instance, never the process or later queries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { format, parse, PromQLError } from '../ts/index.js';
import { readFileSync } from 'node:fs';
import { encodeMatchers } from '../ts/matchers.js';
import { FORTY_NAMESPACES, selectorChain } from './support/blow-up.js';
import { MAX_RETAINED_MEMORY_BYTES, Operation, Parser } from '../ts/runtime.js';

// A stand-in module with the parser's ABI, assembled with binaryen's wasm-as from:
//   (memory (export "memory") 1)  (data (i32.const 0) "null")  (global $poisoned (mut i32) (i32.const 0))
//   alloc → 1024; dealloc → nothing; result_ptr → 0; result_len → 4; error_line, error_column, result_nodes,
//   result_cost, result_lookback_ms → 0
//   format: sets $poisoned to 1, then traps (unreachable); parse: returns $poisoned as its status
//   enforce, enforce_selector: trap
const TRAPPING_MODULE = new WebAssembly.Module(Buffer.from(
  'AGFzbQEAAAABLAdgAAF/YAJ/fwF/YAABfGABfwF/YAJ/fwBgBn9/f39/fAF/YAV/f39/fwF/Aw4NAwQBAQUGAAAAAAACAgUDAQABBgYBfwFBAAsHsgEOBm1lbW9yeQIABWFsbG9jAAAHZGVhbGxvYwABBmZvcm1hdAACBXBhcnNlAAMHZW5mb3JjZQAEEGVuZm9yY2Vfc2VsZWN0b3IABQpyZXN1bHRfcHRyAAYKcmVzdWx0X2xlbgAHCmVycm9yX2xpbmUACAxlcnJvcl9jb2x1bW4ACQxyZXN1bHRfbm9kZXMACgtyZXN1bHRfY29zdAALEnJlc3VsdF9sb29rYmFja19tcwAMClENBQBBgAgLAwABCwcAQQEkAAALBAAjAAsDAAALAwAACwQAQQALBABBBAsEAEEACwQAQQALBABBAAsLAEQAAAAAAAAAAAsLAEQAAAAAAAAAAAsLCgEAQQALBG51bGw=',
  'base64',
));

test('a trap becomes a PromQLError and the next call gets a fresh instance', () => {
  const parser = new Parser(TRAPPING_MODULE);
  assert.equal(parser.run(Operation.Parse, 'up', null), 'null');
  assert.throws(() => parser.run(Operation.Format, 'up', null), (e: unknown) => {
    assert.ok(e instanceof PromQLError);
    assert.match(e.message, /^internal parser error, query refused: /);
    assert.equal(e.code, 'internal');
    assert.ok(e.cause instanceof WebAssembly.RuntimeError);
    assert.equal(e.position, undefined);
    return true;
  });
  // The trapped instance left $poisoned set: a reused instance would answer parse with status 1.
  assert.equal(parser.run(Operation.Parse, 'up', null), 'null');
  assert.throws(() => parser.run(Operation.Enforce, 'up', new Uint8Array(9)), PromQLError);
  assert.equal(parser.run(Operation.Parse, 'up', null), 'null');
});

test('the input buffer grows for long queries and keeps working for short ones after', () => {
  const long = `foo{job="${'é'.repeat(300_000)}"}`;
  assert.deepEqual(parse(format(long)), parse(long));
  assert.equal(format('up'), 'up');
  const longer = `foo{job="${'x'.repeat(3_000_000)}"}`;
  assert.equal(format(longer), longer);
  assert.equal(format(' up '), 'up');
});

test('a query that grows the module memory past the bound does not keep that memory', () => {
  const parser = new Parser(new WebAssembly.Module(readFileSync(new URL('../promql_parser.wasm', import.meta.url))));
  // Unclosed groups: the regex check keeps an entry per '(' before it can say the pattern is bad.
  const hostile = `{a=~"${'('.repeat(4_000_000)}"}`;
  assert.throws(() => parser.run(Operation.Format, hostile, null), /missing closing \)/);
  assert.ok(parser.retainedMemoryBytes() <= MAX_RETAINED_MEMORY_BYTES, `${parser.retainedMemoryBytes()} bytes retained`);
  assert.equal(parser.run(Operation.Format, 'up', null), 'up');
});

test('refusing a query that enforcement would blow up keeps the module memory under the bound', () => {
  const parser = new Parser(new WebAssembly.Module(readFileSync(new URL('../promql_parser.wasm', import.meta.url))));
  // 128 Ki selectors in 256 KiB: 102 MiB once each holds the 799-byte matcher, were printing not stopped at 16 MiB.
  const query = selectorChain(128 * 1024);
  assert.throws(() => parser.run(Operation.Enforce, query, encodeMatchers(FORTY_NAMESPACES)), { name: 'PromQLError', code: 'too_large', message: /^query too large once enforced/ });
  const retained = parser.retainedMemoryBytes();
  assert.ok(retained > 0 && retained <= MAX_RETAINED_MEMORY_BYTES, `${retained} bytes retained (0: the instance was dropped as too large)`);
});
