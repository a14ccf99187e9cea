import { watchFile } from '../../reload/watched-file.js';
import type { Deps } from '../../observability/deps.js';
import { ok, type Result } from '../../result.js';
import { parsePublicKeyPem } from './flag-keys.js';
import { parseJwksText } from './jwks.js';
import type { KeySource, VerificationKey } from './keys.js';

type KeyParser = (text: string, file: string) => Result<readonly VerificationKey[], string>;

// A file of keys, re-read on change, on the interval and on SIGHUP; a bad file keeps the last good keys.
async function watchedKeySource(file: string, intervalMinutes: number, what: string, parse: KeyParser, deps: Deps): Promise<Result<KeySource, string>> {
  const watched = await watchFile({ file, intervalMinutes, what, parse }, deps);
  if (!watched.ok) return watched;
  return ok({ keys: () => watched.value.current(), close: () => watched.value.close() });
}

/** A local JWKS file (k8spin's --auth-config FILE). */
export function jwksFileSource(file: string, intervalMinutes: number, deps: Deps): Promise<Result<KeySource, string>> {
  // The file is parsed on every periodic re-read; say what it holds only when it changed.
  let logged: string | undefined;
  return watchedKeySource(file, intervalMinutes, 'JWKS', (text, name) => {
    const parsed = parseJwksText(text, name);
    if (!parsed.ok) return parsed;
    if (text !== logged) logJwks(parsed.value.keys, parsed.value.skipped, name, deps);
    logged = text;
    return ok(parsed.value.keys);
  }, deps);
}

/** A PEM public key file (--jwt-public-key): replacing the file revokes every token its old key signed. */
export function publicKeyFileSource(file: string, intervalMinutes: number, deps: Deps): Promise<Result<KeySource, string>> {
  return watchedKeySource(file, intervalMinutes, 'JWT public key', parsePublicKeyPem, deps);
}

/** Says which keys of a JWKS are in use and why any were left out. */
export function logJwks(keys: readonly VerificationKey[], skipped: readonly string[], origin: string, deps: Deps): void {
  for (const reason of skipped) deps.logger.warn({ jwks: origin }, `JWKS key left out: ${reason}`);
  if (keys.length === 0) deps.logger.warn({ jwks: origin }, 'JWKS has no usable key: every token will be refused');
  else deps.logger.info({ jwks: origin, kids: keys.map((k) => k.kid ?? null) }, `JWKS loaded with ${keys.length} usable key(s)`);
}
