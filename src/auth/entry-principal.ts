import { joinTenants } from '../tenant.js';
import { principalOf, type Grant } from './grant.js';
import type { Principal } from './types.js';
import type { UserEntry } from './users-file.js';

/**
 * The principal a user entry grants, whichever credential proves it (a password, a client certificate); undefined
 * when it grants nothing (403). Users-file names are a bounded set: they label the request metrics as they are.
 */
export function entryPrincipal(entry: UserEntry, namespaceLabel: string): Principal | undefined {
  const grant: Grant = {
    namespaces: entry.namespaces,
    labels: entry.labels,
    ...(entry.tenantIds !== undefined && entry.tenantIds.length > 0 && { tenantId: joinTenants(entry.tenantIds) }),
    ...(entry.passthrough === true && { passthrough: true }),
  };
  return principalOf(entry.username, entry.username, grant, namespaceLabel, {
    tenant: entry.username,
    ...(entry.limits !== undefined && { limits: entry.limits }),
  });
}
