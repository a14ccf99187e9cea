import { PromQLError } from './errors.js';
import { utf8Bytes } from './utf8.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  type: MatchType;
  value: string;
}

const TYPE_CODES: Readonly<Record<MatchType, number>> = { '=': 0, '!=': 1, '=~': 2, '!~': 3 };

interface Encoded {
  /** name, type, value of every matcher when encoded: a mutated array or matcher must not reuse stale bytes. */
  readonly snapshot: readonly string[];
  readonly bytes: Uint8Array;
}

// Callers pass the same tenant matchers array on every request; encoding it once keeps the hot path cheap.
const cache = new WeakMap<readonly Matcher[], Encoded>();

/** The ABI's binary form of a matcher list: per matcher u8 type, u32 LE name length, name, u32 LE value length, value. */
export function encodeMatchers(matchers: readonly Matcher[]): Uint8Array {
  const hit = cache.get(matchers);
  if (hit !== undefined && unchanged(hit.snapshot, matchers)) return hit.bytes;
  const encoded = { snapshot: snapshotOf(matchers), bytes: encode(matchers) };
  cache.set(matchers, encoded);
  return encoded.bytes;
}

function unchanged(snapshot: readonly string[], matchers: readonly Matcher[]): boolean {
  if (snapshot.length !== matchers.length * 3) return false;
  for (let i = 0; i < matchers.length; i++) {
    const m = matchers[i] as Matcher;
    if (m.name !== snapshot[3 * i] || m.type !== snapshot[3 * i + 1] || m.value !== snapshot[3 * i + 2]) return false;
  }
  return true;
}

function snapshotOf(matchers: readonly Matcher[]): string[] {
  return matchers.flatMap((m) => [m.name, m.type, m.value]);
}

function encode(matchers: readonly Matcher[]): Uint8Array {
  const parts = matchers.map((m) => {
    const code = Object.hasOwn(TYPE_CODES, m.type) ? TYPE_CODES[m.type] : undefined;
    if (code === undefined || typeof m.name !== 'string' || typeof m.value !== 'string') {
      throw new PromQLError(`invalid matcher ${JSON.stringify(m)}: want { name: string, type: "=" | "!=" | "=~" | "!~", value: string }`);
    }
    return { code, name: utf8Bytes(m.name), value: utf8Bytes(m.value) };
  });
  const size = parts.reduce((sum, p) => sum + 9 + p.name.length + p.value.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    out[at] = p.code;
    view.setUint32(at + 1, p.name.length, true);
    out.set(p.name, at + 5);
    at += 5 + p.name.length;
    view.setUint32(at, p.value.length, true);
    out.set(p.value, at + 4);
    at += 4 + p.value.length;
  }
  return out;
}
