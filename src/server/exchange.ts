import type { Principal } from '../auth/types.js';
import type { Param } from '../http/form.js';
import type { TenantLimits } from '../limits/limits.js';
import type { Target } from '../http/target.js';
import type { RouteMatch } from '../routes/table.js';
import type { Tally } from '../upstream/forward.js';

/** What the stages of one request learn about it, for the next stage and for its log line and metrics. */
export interface Exchange extends Tally {
  readonly id: string;
  /** performance.now() at arrival. */
  readonly start: number;
  /** Metrics label: the route's path, the unprotected path, or 'other'. */
  endpoint: string;
  target?: Target;
  match?: RouteMatch;
  principal?: Principal;
  /** The principal's tenant limits, when limits are on. */
  limits?: TenantLimits;
  /** The X-Scope-OrgID sent upstream, as the enforcement mode says. */
  orgId?: string;
  /** The parameters of URL and body together, decoded, in the order sent; logged at debug level. */
  params?: Param[];
  /** The request came with a form body: it goes upstream as a form POST too. */
  isForm?: boolean;
  /** The decoded body of a `json` route. */
  json?: unknown;
  /** The rebuilt parameters as sent upstream; logged at debug level. */
  enforced?: string;
}
