import type { Deps } from '../observability/deps.js';
import { watchFile, type WatchedFile } from '../reload/watched-file.js';
import type { Result } from '../result.js';
import { parseUsersFile, type UsersFile } from './users-file.js';

export interface UsersFileOptions {
  /** The users file, in k8spin's format. */
  readonly file: string;
  readonly reloadIntervalMinutes: number;
}

/**
 * The users file, kept current (see watchFile), its warnings logged at each load: one watcher for every
 * authenticator that reads it (passwords, client certificates).
 */
export function watchUsersFile(options: UsersFileOptions, deps: Deps): Promise<Result<WatchedFile<UsersFile>, string>> {
  const logger = deps.logger.child({ auth: 'users-file' });
  return watchFile<UsersFile>(
    {
      file: options.file,
      intervalMinutes: options.reloadIntervalMinutes,
      what: 'users file',
      parse(text, file) {
        const parsed = parseUsersFile(text, file);
        if (parsed.ok) for (const warning of parsed.value.warnings) logger.warn(warning);
        return parsed;
      },
    },
    deps,
  );
}
