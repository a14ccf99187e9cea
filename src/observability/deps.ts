import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** What every long-lived module receives from `run`: where to log and where to register metrics. */
export interface Deps {
  logger: Logger;
  registry: Registry;
}
