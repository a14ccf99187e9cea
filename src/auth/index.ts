import type { RunOptions } from '../config/run-options.js';
import type { Deps } from '../observability/deps.js';
import type { Result } from '../result.js';
import { createBasicAuthenticator } from './basic.js';
import { createJwtAuthenticator } from './jwt/index.js';
import type { Authenticator } from './types.js';

/** The authenticator `--auth-type` names, loaded from `--auth-config` (and the JWT flags). */
export function createAuthenticator(opts: RunOptions, deps: Deps): Promise<Result<Authenticator, string>> {
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
