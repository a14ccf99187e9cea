import type { JWTPayload } from 'jose';
import { tenantMatchers } from '../tenant.js';
import type { Principal } from '../types.js';
import type { Grant } from './claims.js';

/** The principal a grant makes, or undefined when it allows nothing (the caller answers 403). */
export function principalOf(payload: JWTPayload, grant: Grant, namespaceLabel: string): Principal | undefined {
  const matchers = tenantMatchers({ namespaces: grant.namespaces, labels: grant.labels }, namespaceLabel);
  if (matchers.length === 0 && grant.tenantId === undefined) return undefined;
  return {
    user: userOf(payload, grant),
    matchers,
    ...(grant.tenantId !== undefined && { tenantId: grant.tenantId }),
  };
}

// For logs only: the subject when there is one; k8spin's and cortex-gateway's tokens carry none.
function userOf(payload: JWTPayload, grant: Grant): string {
  if (typeof payload.sub === 'string' && payload.sub !== '') return payload.sub.slice(0, 128);
  return grant.tenantId ?? 'jwt';
}
