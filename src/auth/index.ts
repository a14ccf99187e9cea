import type { Deps } from '../observability/deps.js';
import { err, ok, type Result } from '../result.js';
import { createBasicAuthenticator, createBasicAuthenticatorOver } from './basic.js';
import { firstRecognising } from './chain.js';
import type { MtlsIdentity } from './certificate-identity.js';
import { createJwtAuthenticator } from './jwt/index.js';
import type { JwtAuthOptions } from './jwt/options.js';
import { createMtlsAuthenticator } from './mtls.js';
import type { Authenticator } from './types.js';
import { watchUsersFile } from './users.js';

export const AUTH_TYPES = ['basic', 'jwt', 'mtls'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** What `--auth-type` and the files and flags it reads make an authenticator from. */
export interface AuthOptions extends JwtAuthOptions {
  /** In order: the first that finds its kind of credential in a request decides (`mtls,basic`). */
  readonly authTypes: readonly AuthType[];
  /** What of a client certificate names its user. */
  readonly mtlsIdentity: MtlsIdentity;
}

/**
 * The authenticators `--auth-type` names, chained: basic and mtls read the users file at `--auth-config` (one
 * watcher for both); jwt reads the JWKS there when it is alone, and the JWT flags.
 */
export async function createAuthenticator(opts: AuthOptions, deps: Deps): Promise<Result<Authenticator, string>> {
  const { authTypes, namespaceLabel, reloadIntervalMinutes } = opts;
  if (authTypes.length === 1 && authTypes[0] === 'basic') {
    return createBasicAuthenticator({ file: opts.authConfig, reloadIntervalMinutes, namespaceLabel }, deps);
  }
  const readsUsers = authTypes.includes('basic') || authTypes.includes('mtls');
  const users = readsUsers ? await watchUsersFile({ file: opts.authConfig, reloadIntervalMinutes }, deps) : undefined;
  if (users?.ok === false) return err(users.error);
  const entries = () => users!.value.current().users;

  const made: Authenticator[] = [];
  const closeAll = () => Promise.all([...made.map((a) => a.close()), users?.value.close()]).then(() => undefined);
  for (const type of authTypes) {
    switch (type) {
      case 'basic':
        made.push(createBasicAuthenticatorOver(entries, opts.authConfig, namespaceLabel, deps));
        break;
      case 'mtls':
        made.push(createMtlsAuthenticator(entries, { identity: opts.mtlsIdentity, namespaceLabel }));
        break;
      case 'jwt': {
        // Beside a users file, the JWT keys come from --jwt-secret or --jwt-public-key only (checked with the flags).
        const jwt = await createJwtAuthenticator(readsUsers ? { ...opts, authConfig: '' } : opts, deps);
        if (!jwt.ok) {
          await closeAll();
          return jwt;
        }
        made.push(jwt.value);
        break;
      }
    }
  }
  const chain = firstRecognising(made);
  // Called as a function, not as the chain's method: one authenticator is its own chain, a class whose method needs it.
  return ok({ authenticate: (request) => chain.authenticate(request), close: closeAll });
}
