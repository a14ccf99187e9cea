// The bytes Go's regexp.QuoteMeta escapes; RE2 treats nothing else as special outside a class.
const REGEX_META = /[\\.+*?()|[\]{}^$]/g;

/** Escapes `value` so that, as a `=~` or `!~` matcher, it matches exactly itself (Go's regexp.QuoteMeta). */
export function quoteRegex(value: string): string {
  return value.replace(REGEX_META, '\\$&');
}
