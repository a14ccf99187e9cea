import { isLabelName } from '../../labels.js';
import { err, ok, type Result } from '../../result.js';
import { isTenantId, TENANT_ID_RULE } from '../../tenant.js';
import type { Grant } from '../types.js';

/** Where the grant lives in a token: claim names or dotted paths such as `realm_access.roles`. */
export interface ClaimNames {
  readonly namespaces: string;
  readonly labels: string;
  readonly tenant: string;
}

/**
 * The value at `path`: the whole name as a claim first (Auth0-style claims are URLs full of dots),
 * else its dot-separated segments through nested objects. Only own properties count.
 */
export function claimAt(payload: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let node: unknown = payload;
  for (const segment of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/**
 * Reads what a verified token grants from its claims, refusing any of the wrong type.
 * An empty string would become a matcher that selects series *without* the label, so it is refused too.
 */
export function readGrant(payload: Readonly<Record<string, unknown>>, names: ClaimNames): Result<Grant, string> {
  const namespaces = stringList(claimAt(payload, names.namespaces), `"${names.namespaces}"`, true);
  if (typeof namespaces === 'string') return err(namespaces);

  const rawLabels = claimAt(payload, names.labels);
  const labels: Record<string, readonly string[]> = {};
  if (rawLabels !== undefined && rawLabels !== null) {
    if (typeof rawLabels !== 'object' || Array.isArray(rawLabels)) return err(`claim "${names.labels}" must be an object of label names to values`);
    for (const [name, value] of Object.entries(rawLabels)) {
      if (!isLabelName(name)) return err(`claim "${names.labels}" has an invalid label name ${JSON.stringify(name)}`);
      const values = stringList(value, `"${names.labels}.${name}"`, false);
      if (typeof values === 'string') return err(values);
      labels[name] = values;
    }
  }

  const tenantId = claimAt(payload, names.tenant);
  if (tenantId === undefined || tenantId === null) return ok({ namespaces, labels });
  if (typeof tenantId !== 'string' || !isTenantId(tenantId)) return err(`claim "${names.tenant}" must be a tenant id: ${TENANT_ID_RULE}`);
  return ok({ namespaces, labels, tenantId });
}

/** A string or a list of strings, none empty; absent (or null) is an empty list where `mayBeEmpty`. */
function stringList(value: unknown, what: string, mayBeEmpty: boolean): readonly string[] | string {
  if (value === undefined || value === null) return mayBeEmpty ? [] : `claim ${what} is null`;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v): v is string => typeof v === 'string' && v !== '')) {
    return `claim ${what} must be a non-empty string or a list of them`;
  }
  if (list.length === 0 && !mayBeEmpty) return `claim ${what} is an empty list`;
  return [...new Set(list)];
}
