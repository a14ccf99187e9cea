// Prometheus's own parser test cases, extracted as data into parser/test/corpus/ (see its README.md).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CORPUS_DIR = new URL('../corpus/', import.meta.url);

export interface ParseCase {
  readonly input: string;
  readonly input_b64?: string;
  readonly fail: boolean;
  readonly error?: string | null;
  readonly errors?: readonly { msg: string; start: number; end: number }[];
  readonly expected_string?: string;
  readonly source: string;
}

export interface PrintCase {
  readonly input: string;
  readonly output: string;
  readonly source: string;
}

/** The records of a corpus file; a missing or empty file is an error, never a skip. */
export function readCorpus<T>(name: string): T[] {
  const url = new URL(name, CORPUS_DIR);
  const where = `parser/test/corpus/${name}`;
  if (!existsSync(url)) {
    throw new Error(`corpus file ${where} is missing (${fileURLToPath(url)}): the conformance suite cannot run without it`);
  }
  const records = readFileSync(url, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as T);
  if (records.length === 0) {
    throw new Error(`corpus file ${where} is empty: the conformance suite cannot run without its records`);
  }
  return records;
}

/**
 * The exact input as a string. Bytes that are not UTF-8 become lone surrogates U+DC80..U+DCFF
 * ("surrogateescape"): the wrapper hands those to the parser as invalid UTF-8, as the raw bytes were.
 */
export function inputOf(c: ParseCase): string {
  return c.input_b64 === undefined ? c.input : surrogateEscape(Buffer.from(c.input_b64, 'base64'));
}

function surrogateEscape(bytes: Uint8Array): string {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let out = '';
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b < 0x80) continue;
    const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    try {
      if (len === 0) throw new Error('continuation byte');
      decoder.decode(bytes.subarray(i, i + len));
      i += len - 1;
    } catch {
      out += decoder.decode(bytes.subarray(start, i)) + String.fromCharCode(0xdc00 | b);
      start = i + 1;
    }
  }
  return out + decoder.decode(bytes.subarray(start));
}

/** The exact bytes of the input. */
export function bytesOf(c: ParseCase): Buffer {
  return c.input_b64 === undefined ? Buffer.from(c.input, 'utf8') : Buffer.from(c.input_b64, 'base64');
}

/** Prometheus's "line:column" of a byte offset, as its parse errors print it. */
export function positionOf(input: Uint8Array, byteOffset: number): string {
  const before = Buffer.from(input).subarray(0, byteOffset).toString('latin1');
  const lastBreak = before.lastIndexOf('\n');
  const line = before.split('\n').length;
  return `${line}:${byteOffset - lastBreak}`;
}

/** A double-quoted PromQL string literal holding exactly `value`, escaping everything but printable ASCII. */
export function goQuote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0) as number;
    out += cp >= 0x20 && cp < 0x7f && ch !== '"' && ch !== '\\' ? ch : `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}
