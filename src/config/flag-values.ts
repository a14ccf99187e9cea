import { InvalidArgumentError } from 'commander';

/** Parsers and names shared by the flag definitions of `promgate run`. */

export function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${choices.join(', ')}.`);
    return value as T;
  };
}

export function bool(value: string): boolean {
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new InvalidArgumentError('must be true or false.');
}

/** A flag's environment variable, k8spin's way. */
export const env = (name: string) => `PROM_PROXY_${name}`;
