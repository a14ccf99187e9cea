import { err, ok, type Result } from '../result.js';

/**
 * How the upstream keeps tenants apart: `labels`, by the matchers promgate adds to every selector (a plain
 * Prometheus); `header`, by the X-Scope-OrgID header (Cortex, Mimir, Loki); `both`, by both at once.
 */
export type Enforcement = 'labels' | 'header' | 'both';
export const ENFORCEMENTS: readonly Enforcement[] = ['labels', 'header', 'both'];

/** What a credential confines its holder by. */
export interface Confines {
  readonly matchers: boolean;
  readonly tenantId: string | undefined;
}

/**
 * The X-Scope-OrgID to send for a credential (undefined: none), or why the credential cannot be served under
 * `enforcement`: each mode needs what it isolates by, since an upstream that ignores the header would hand a
 * tenant-only credential everything. Matchers a credential carries are applied in every mode: a restriction it
 * states is never dropped.
 */
export function isolation(confines: Confines, enforcement: Enforcement): Result<string | undefined, string> {
  const { matchers, tenantId } = confines;
  if (!matchers && tenantId === undefined) return err('no namespace, label or tenant is granted');
  if (enforcement === 'labels') {
    if (!matchers) {
      return err(
        'this credential names only a tenant (X-Scope-OrgID), and the upstream is not declared multi-tenant: a plain Prometheus ignores the header (the gateway runs with --enforce labels)',
      );
    }
    return ok(undefined);
  }
  if (tenantId === undefined) return err(`this credential names no tenant id, which --enforce ${enforcement} sends as X-Scope-OrgID`);
  if (enforcement === 'both' && !matchers) return err('this credential names no namespace or label, which --enforce both adds to every query');
  return ok(tenantId);
}

/** What each mode does, for the start-up log line. */
export function describeEnforcement(enforcement: Enforcement): string {
  switch (enforcement) {
    case 'labels':
      return "every selector gets the credential's matchers; X-Scope-OrgID is not sent; a credential with only a tenant id gets 403";
    case 'header':
      return "X-Scope-OrgID is set from the credential's tenant id (its matchers, if any, are added too); a credential without a tenant id gets 403";
    case 'both':
      return "every selector gets the credential's matchers and X-Scope-OrgID is set from its tenant id; a credential lacking either gets 403";
  }
}
