/** One subjectAltName entry of a certificate: its kind as Node names it (`DNS`, `URI`, `email`, `IP Address`) and value. */
export interface AltName {
  readonly kind: string;
  readonly value: string;
}

// A JSON string literal, as Node writes an entry's value when it holds a separator, a quote or an unusual character.
const JSON_STRING = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/;

/**
 * The entries of Node's `subjectaltname` text (`DNS:a, URI:spiffe://x, email:"b, c"`), or undefined when it is
 * malformed. Splitting at ", " alone is the CVE-2021-44532 mistake: a value may hold ", DNS:admin" itself, so
 * Node quotes such a value as a JSON string, and it is read back whole here.
 */
export function subjectAltNames(text: string | undefined): AltName[] | undefined {
  if (text === undefined || text === '') return [];
  const entries: string[] = [];
  let entry = '';
  let offset = 0;
  while (offset < text.length) {
    const separator = text.indexOf(', ', offset);
    const quote = text.indexOf('"', offset);
    if (quote !== -1 && (separator === -1 || quote < separator)) {
      const literal = JSON_STRING.exec(text.slice(quote));
      if (literal === null) return undefined;
      entry += text.slice(offset, quote) + (JSON.parse(literal[0]) as string);
      offset = quote + literal[0].length;
    } else if (separator !== -1) {
      entries.push(entry + text.slice(offset, separator));
      entry = '';
      offset = separator + 2;
    } else {
      entry += text.slice(offset);
      offset = text.length;
    }
  }
  entries.push(entry);
  const names: AltName[] = [];
  for (const item of entries) {
    const colon = item.indexOf(':');
    if (colon <= 0) return undefined;
    names.push({ kind: item.slice(0, colon), value: item.slice(colon + 1) });
  }
  return names;
}

/**
 * An entry's value as Go prints it, which is how Prometheus's `client_allowed_sans` are written: IP addresses in
 * their short form (Node writes IPv6 ones in full), everything else as it is.
 */
export function canonicalAltName(name: AltName): string {
  if (name.kind !== 'IP Address' || !name.value.includes(':')) return name.value;
  try {
    return new URL(`http://[${name.value}]/`).hostname.slice(1, -1);
  } catch {
    return name.value;
  }
}
