const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8Bytes(text: string): Uint8Array {
  return text.isWellFormed() ? encoder.encode(text) : wtf8Bytes(text);
}

/**
 * Encodes `text` into `target` and returns the byte count, or -1 when it does not fit.
 * A lone surrogate cannot be UTF-8: instead of letting TextEncoder turn it into U+FFFD silently,
 * it is written as its (invalid) 3-byte sequence, so the parser refuses it as invalid UTF-8
 * with a position, exactly like bad bytes that reach Prometheus.
 */
export function encodeUtf8Into(text: string, target: Uint8Array): number {
  if (!text.isWellFormed()) {
    const bytes = wtf8Bytes(text);
    if (bytes.length > target.length) return -1;
    target.set(bytes);
    return bytes.length;
  }
  const { read, written } = encoder.encodeInto(text, target);
  return read === text.length ? written : -1;
}

/** The longest UTF-8 encoding a string of this many UTF-16 code units can have. */
export function maxUtf8Length(text: string): number {
  return text.length * 3;
}

function wtf8Bytes(text: string): Uint8Array {
  const out = new Uint8Array(maxUtf8Length(text));
  let n = 0;
  for (const ch of text) {
    // for..of yields whole code points, and lone surrogates as single units.
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) {
      out[n++] = cp;
    } else if (cp < 0x800) {
      out[n++] = 0xc0 | (cp >> 6);
      out[n++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      out[n++] = 0xe0 | (cp >> 12);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    } else {
      out[n++] = 0xf0 | (cp >> 18);
      out[n++] = 0x80 | ((cp >> 12) & 0x3f);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    }
  }
  return out.subarray(0, n);
}
