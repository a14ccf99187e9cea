import type { Principal } from '../auth/types.js';
import type { Route } from '../enforce/endpoints.js';
import type { Param } from '../enforce/form.js';
import type { Target } from '../enforce/path.js';

/** What the stages of one request learn about it, for the next stage and for its log line and metrics. */
export interface Exchange {
  readonly id: string;
  /** performance.now() at arrival. */
  readonly start: number;
  /** Metrics label: the endpoint's table name, the unprotected path, or 'other'. */
  endpoint: string;
  target?: Target;
  route?: Route;
  /** The validated `<name>` of a label-values path. */
  labelName?: string;
  principal?: Principal;
  /** The parameters of URL and body together, decoded, in the order sent; logged at debug level. */
  params?: Param[];
  /** The POST body decoded into `params`: the request goes upstream as a POST too. */
  isForm?: boolean;
  /** The rebuilt parameters as sent upstream; logged at debug level. */
  enforced?: string;
  /** Milliseconds until the upstream's headers arrived; -1 when it was not asked. */
  upstreamMs: number;
  /** Body bytes streamed to the client from the upstream. */
  bytes: number;
  /** Why the request failed, for the log line only (it may say which credential check failed). */
  note?: string;
}
