import { err, ok, type Result } from './result.js';

/**
 * Cortex's and Mimir's tenant id rules (`tenant.ValidTenantID`): 1 to 150 characters, each a letter, a digit or one
 * of `! - _ . * ' ( )`, and never `.` or `..`. `|` in particular stays out: Cortex and Mimir read `a|b` as several
 * tenants at once (tenant federation), which only promgate may ask for, by joining ids it granted itself.
 */
const TENANT_ID = /^[a-zA-Z0-9!_.*'()-]{1,150}$/;

export const TENANT_ID_RULE = "1 to 150 of a-z A-Z 0-9 ! - _ . * ' ( ), not . or ..";

export const isTenantId = (id: string): boolean => TENANT_ID.test(id) && id !== '.' && id !== '..';

/** Several granted tenants as the one X-Scope-OrgID value Cortex and Mimir federate: unique, in the order given. */
export const joinTenants = (ids: readonly string[]): string => [...new Set(ids)].join('|');

/** Whether an X-Scope-OrgID value names more than one tenant (a federated read, never a write). */
export const isFederated = (orgId: string): boolean => orgId.includes('|');

/**
 * What a passthrough tenant (auth-gateway's `passthrough: true`) sends as X-Scope-OrgID: its client's own header,
 * checked as one tenant id (never `a|b`, never a repeated header, which Node joins with ", "); the tenant's own
 * id when the client sent none.
 */
export function passedThrough(sent: string | undefined, own: string | undefined): Result<string, string> {
  if (sent === undefined) return own === undefined ? err('a passthrough tenant must send X-Scope-OrgID') : ok(own);
  if (!isTenantId(sent)) return err(`the X-Scope-OrgID sent is not one tenant id (${TENANT_ID_RULE})`);
  return ok(sent);
}
