import { err, ok, type Result } from '../result.js';

/** One decoded parameter, in the order it was sent. */
export type Param = readonly [name: string, value: string];

const PLUS = /\+/g;

function decode(text: string): string {
  if (text.includes('+')) text = text.replace(PLUS, ' ');
  return text.includes('%') ? decodeURIComponent(text) : text;
}

/**
 * Decodes `application/x-www-form-urlencoded` text (a URL query string or a POST body) into `into`.
 * Like Go's url.ParseQuery, which Prometheus uses: `&` separates, `+` is a space, and a bad escape or a `;`
 * is an error rather than something to guess about.
 */
export function decodeForm(text: string, into: Param[]): Result<void, string> {
  if (text.length === 0) return ok(undefined);
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end === -1) end = text.length;
    if (end > start) {
      const pair = text.slice(start, end);
      if (pair.includes(';')) return err('invalid semicolon separator in query');
      const eq = pair.indexOf('=');
      try {
        if (eq === -1) into.push([decode(pair), '']);
        else into.push([decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))]);
      } catch {
        return err(`invalid URL escape in ${JSON.stringify(pair.length > 64 ? `${pair.slice(0, 64)}...` : pair)}`);
      }
    }
    start = end + 1;
  }
  return ok(undefined);
}

/** The canonical encoding of one parameter, as promgate sends it upstream. */
export function encodeParam(name: string, value: string): string {
  return `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}
