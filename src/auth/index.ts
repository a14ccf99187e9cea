import type { Deps } from '../observability/deps.js';
import type { Result } from '../result.js';
import { createBasicAuthenticator } from './basic.js';
import { createJwtAuthenticator } from './jwt/index.js';
import type { JwtAuthOptions } from './jwt/options.js';
import type { Authenticator } from './types.js';

export type AuthType = 'basic' | 'jwt';

/** What `--auth-type` and the files and flags it reads make an authenticator from. */
export interface AuthOptions extends JwtAuthOptions {
  readonly authType: AuthType;
}

/** The authenticator `--auth-type` names, loaded from `--auth-config` (and the JWT flags). */
export function createAuthenticator(opts: AuthOptions, deps: Deps): Promise<Result<Authenticator, string>> {
  switch (opts.authType) {
    case 'basic':
      return createBasicAuthenticator(
        { file: opts.authConfig, reloadIntervalMinutes: opts.reloadIntervalMinutes, namespaceLabel: opts.namespaceLabel },
        deps,
      );
    case 'jwt':
      return createJwtAuthenticator(opts, deps);
  }
}
